"""Held-out-style contact lists through a new user's path, with the figures issue 19 asks for.

Each list is made here (seeded, so a rerun gives the same figures), written as an .xlsx with no
mapping, then: ``init`` writes the mapping (its country guess and columns are reported), the
mapping's rows are mapped exactly as ``sync`` maps them, and a real sync sends them to a local
inwise sandbox (then a rerun, which must send nothing).  Every row carries its truth: the number
it really is (international digits) or None when it is unusable whatever the country (a 7-digit
local number with no area code, a made-up number).

Figures per list:
- ``guess``: init's default country (``none`` when it did not choose) and the email column;
- ``sent unusable``: rows sent with a mobile that is not the row's real number (goal 0);
- ``valid refused``: rows whose number is a real mobile, written so a person can tell which
  (with +, or national for the list's own country), that were not sent (goal 0);
- ``country unclear, refused``: real mobiles written without + in a list whose country cannot
  be told (a US number among 7-digit local ones, national numbers of three countries): refused
  until the user chooses the country in the mapping, as the message says;
- ``sent``, ``rerun sent``: rows sent by the sync and by a second sync (goal 0).

Run: ``python scripts/held_out.py`` (``--rows N`` per list, default 300; ``--json``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from openpyxl import Workbook

from sheets_connector.config import load_config
from sheets_connector.init_mapping import write_mapping
from sheets_connector.normalize import NEWER_RANGES
from sheets_connector.sandbox import Sandbox
from sheets_connector.sync import Collaborators, sync
from sheets_connector.sync.plan import plan

KEY = "held-out-key"


@dataclass
class Row:
    cells: list[Any]
    truth: str | None  # the real mobile as international digits; None: unusable whatever the country
    readable: bool = True  # a person could tell which number it is (with +, or national of the list's country)


@dataclass
class HeldOut:
    name: str
    header: list[str]
    rows: list[Row] = field(default_factory=list)


# --- numbers ------------------------------------------------------------------------------------


def _is_mobile(e164: str) -> bool:
    n = phonenumbers.parse(e164)
    if phonenumbers.is_valid_number(n):
        return phonenumbers.number_type(n) in (phonenumbers.PhoneNumberType.MOBILE,
                                               phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return False


def mobile(rnd: random.Random, region: str) -> phonenumbers.PhoneNumber:
    """A random number phonenumbers calls a valid mobile of ``region``."""
    shapes = {"IL": lambda: "05" + "".join(rnd.choice("0123456789") for _ in range(8)),
              "US": lambda: str(rnd.randint(201, 989)) + str(rnd.randint(200, 999)) + f"{rnd.randint(0, 9999):04d}",
              "CA": lambda: rnd.choice(["416", "604", "514", "403", "613"]) + str(rnd.randint(200, 999))
              + f"{rnd.randint(0, 9999):04d}",
              "GB": lambda: "07" + "".join(rnd.choice("0123456789") for _ in range(9)),
              "FR": lambda: "0" + rnd.choice("67") + "".join(rnd.choice("0123456789") for _ in range(8)),
              "DE": lambda: "017" + "".join(rnd.choice("0123456789") for _ in range(8))}
    while True:
        n = phonenumbers.parse(shapes[region](), region)
        if _is_mobile(phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)):
            return n


def digits(n: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def written(rnd: random.Random, n: phonenumbers.PhoneNumber, international: bool) -> Any:
    """The number as people type it: spaces, dashes, brackets, dots; Excel dropping a leading 0."""
    if international:
        text = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return rnd.choice([text, text.replace(" ", ""), "00" + text[1:].replace(" ", "-")])
    national = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
    plain = "".join(ch for ch in national if ch.isdigit())
    forms = [national, plain, national.replace("-", " "), national.replace("-", ".")]
    if plain.startswith("0"):
        forms.append(int(plain))  # a number cell: Excel dropped the leading zero
    return rnd.choice(forms)


# --- the lists ------------------------------------------------------------------------------------


def scraped_us(rnd: random.Random, n: int) -> HeldOut:
    """A scraped US list: most numbers are 7-digit local numbers with no area code."""
    h = HeldOut("scraped US (7-digit local numbers)", ["Name", "Email", "Phone"])
    for i in range(n):
        if rnd.random() < 0.8:
            cell: Any = f"{rnd.randint(200, 999)}-{rnd.randint(0, 9999):04d}"
            h.rows.append(Row([f"Person {i}", f"p{i}@example.com", cell], None))
        else:
            m = mobile(rnd, "US")
            h.rows.append(Row([f"Person {i}", f"p{i}@example.com", written(rnd, m, False)], digits(m), readable=False))
    return h


def clean_us(rnd: random.Random, n: int) -> HeldOut:
    h = HeldOut("US list", ["First Name", "Last Name", "E-mail", "Mobile phone"])
    for i in range(n):
        m = mobile(rnd, "US" if rnd.random() < 0.85 else "CA")
        h.rows.append(Row([f"F{i}", f"L{i}", f"u{i}@example.com", written(rnd, m, False)], digits(m)))
    return h


def mixed(rnd: random.Random, n: int) -> HeldOut:
    """An Israeli organisation's list with contacts abroad: foreign numbers mostly with +, some
    without (a foreign number with its code but no +), a few made-up numbers."""
    h = HeldOut("mixed countries (IL majority)", ["Name", "Email", "Mobile"])
    for i in range(n):
        r = rnd.random()
        if r < 0.65:
            m = mobile(rnd, "IL")
            h.rows.append(Row([f"P{i}", f"m{i}@example.com", written(rnd, m, False)], digits(m)))
        elif r < 0.9:
            m = mobile(rnd, rnd.choice(["US", "GB", "FR", "DE"]))
            h.rows.append(Row([f"P{i}", f"m{i}@example.com", written(rnd, m, True)], digits(m)))
        elif r < 0.95:
            m = mobile(rnd, rnd.choice(["US", "GB"]))  # country code written, "+" forgotten
            h.rows.append(Row([f"P{i}", f"m{i}@example.com", digits(m)], digits(m), readable=False))
        else:
            h.rows.append(Row([f"P{i}", f"m{i}@example.com", f"{rnd.randint(100000, 9999999)}"], None))
    return h


def mixed_no_majority(rnd: random.Random, n: int) -> HeldOut:
    """National numbers of three countries, none a majority: no country can be chosen for them."""
    h = HeldOut("mixed countries (no majority, national form)", ["Name", "Email", "Mobile"])
    for i in range(n):
        region = rnd.choice(["IL", "GB", "FR"])
        m = mobile(rnd, region)
        h.rows.append(Row([f"P{i}", f"x{i}@example.com", written(rnd, m, False)], digits(m), readable=False))
    return h


def dates_in_email(rnd: random.Random, n: int) -> HeldOut:
    """'Email Address' holds dates; the addresses are in a column headed 'Contact'."""
    h = HeldOut("dates in the email column", ["Name", "Email Address", "Contact", "Mobile"])
    for i in range(n):
        m = mobile(rnd, "US")
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randint(0, 300))
        h.rows.append(Row([f"P{i}", day, f"d{i}@example.com", written(rnd, m, False)], digits(m)))
    return h


def hebrew(rnd: random.Random, n: int) -> HeldOut:
    h = HeldOut("Hebrew list", ["שם פרטי", "שם משפחה", 'דוא"ל', "נייד", "עיר"])
    for i in range(n):
        if rnd.random() < 0.1:  # the newer ranges phonenumbers does not list yet (inwise's own example)
            prefix = rnd.choice(["054-1", "050-1", "052-1", "058-9", "055-1"])
            text = prefix + "".join(rnd.choice("0123456789") for _ in range(6))
            e164 = "972" + "".join(ch for ch in text if ch.isdigit())[1:]
            h.rows.append(Row(["דנה", "כהן", f"h{i}@example.co.il", text, "חיפה"], e164))
            continue
        m = mobile(rnd, "IL")
        h.rows.append(Row(["דנה", "כהן", f"h{i}@example.co.il", written(rnd, m, False), "תל אביב"], digits(m)))
    return h


LISTS: tuple[Callable[[random.Random, int], HeldOut], ...] = (
    scraped_us, clean_us, mixed, mixed_no_majority, dates_in_email, hebrew)


# --- the measure ------------------------------------------------------------------------------------


def measure(h: HeldOut, folder: Path, sandbox: Sandbox) -> dict[str, Any]:
    folder.mkdir(parents=True)
    book = folder / "contacts.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(h.header)
    for r in h.rows:
        ws.append(r.cells)
    wb.save(book)
    done = write_mapping(book)
    cfg = load_config(done.mapping)
    cfg.inwise.base_url = sandbox.base_url
    cfg.state_dir = str(folder / "state")
    guess = cfg.inwise.mobile.default_country or "none"
    p = plan(cfg)
    sent_unusable = valid_refused = unclear_refused = 0
    for m in p.mapped:
        row = h.rows[m.number - 2]
        if m.contact is not None and m.contact.mobile is not None and m.contact.mobile != row.truth:
            sent_unusable += 1
        real = row.truth is not None and (_is_mobile("+" + row.truth)
                                          or any(("+" + row.truth).startswith(r) for r in NEWER_RANGES))
        if real and (m.contact is None or m.contact.mobile != row.truth):
            if row.readable:
                valid_refused += 1
            else:
                unclear_refused += 1
    env = {"INWISE_API_KEY": KEY}
    first = sync(cfg, Collaborators(environ=env))
    again = sync(cfg, Collaborators(environ=env))
    return {"list": h.name, "rows": len(h.rows), "guess": guess, "email column": cfg.columns.email,
            "sent": first.counts["created"] + first.counts["updated"], "sent unusable": sent_unusable,
            "valid refused": valid_refused, "country unclear, refused": unclear_refused,
            "rerun sent": again.counts["created"] + again.counts["updated"]}


def run(rows: int = 300, seed: int = 19) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp, Sandbox(api_keys=(KEY,)) as sandbox:
        for i, make in enumerate(LISTS):
            out.append(measure(make(random.Random(seed + i), rows), Path(tmp) / f"list{i}", sandbox))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    figures = run(args.rows, args.seed)
    if args.json:
        json.dump(figures, sys.stdout, ensure_ascii=False, indent=1)
        return 0
    cols = ["list", "rows", "guess", "email column", "sent", "sent unusable", "valid refused",
            "country unclear, refused", "rerun sent"]
    print(" | ".join(cols))
    for f in figures:
        print(" | ".join(str(f[c]) for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
