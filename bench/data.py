"""Seeded, realistic contact workbooks for the benchmark.

The mix follows real lists: mostly clean rows, Hebrew and English names, mobiles typed every
way people type them (with dashes, international, as numbers Excel stripped the zero from, as
972...0 floats), a few foreign numbers, and a share of dirty rows (bad emails, 7-digit phones,
duplicates, rows with only a mobile).
"""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

HEADER = ["Member no.", "First name", "Last name", "Email", "Mobile", "Birthday", "City", "Company", "Score", "Notes"]

FIRST = ["דנה", "נועה", "יוסי", "מיכל", "עומר", "שירה", "אבי", "תמר", "איתי", "רונית",
         "Dana", "Noa", "Michael", "Sarah", "Daniel", "Emma", "David", "Maya", "Yael", "Tal"]
LAST = ["כהן", "לוי", "מזרחי", "פרץ", "ביטון", "אברהם", "פרידמן", "שפירא",
        "Cohen", "Levi", "Brown", "Smith", "Weiss", "Rosen", "Katz", "Friedman"]
CITIES = ["תל אביב", "ירושלים", "חיפה", "באר שבע", "Tel Aviv", "Haifa", "Netanya", "Raanana, Sharon"]
COMPANIES = ["Acme Ltd", "בית תוכנה בע\"מ", "Globex", "Initech", "", "Umbrella \"Corp\""]

# share of each kind of row
DIRTY = {"bad_email": 0.02, "short_phone": 0.02, "duplicate": 0.01, "mobile_only": 0.03, "foreign": 0.02}


def _mobile(rng: random.Random, i: int) -> object:
    prefix = rng.choice(["50", "52", "53", "54", "55", "58"])
    rest = f"{i % 10_000_000:07d}"
    form = rng.random()
    if form < 0.35:
        return f"0{prefix}-{rest}"
    if form < 0.55:
        return f"0{prefix}{rest}"
    if form < 0.70:
        return int(f"{prefix}{rest}")  # Excel dropped the leading zero
    if form < 0.80:
        return float(f"972{prefix}{rest}")  # 972541111111.0
    return f"+972 {prefix}-{rest[:3]}-{rest[3:]}"


def rows(n: int, seed: int = 20261128) -> list[list[object]]:
    """``n`` data rows of 10 columns (the header is HEADER)."""
    rng = random.Random(seed)
    out: list[list[object]] = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email: object = f"user{i}.{rng.randrange(10**6)}@example{rng.randrange(50)}.co.il"
        mobile: object = _mobile(rng, i)
        r = rng.random()
        acc = 0.0
        kind = "clean"
        for k, share in DIRTY.items():
            acc += share
            if r < acc:
                kind = k
                break
        if kind == "bad_email":
            email = email.replace("@", "@@") if rng.random() < 0.5 else email.split("@")[0]
        elif kind == "short_phone":
            mobile = str(rng.randrange(2_000_000, 9_999_999))
        elif kind == "duplicate" and out:
            email = out[rng.randrange(len(out))][3]
        elif kind == "mobile_only":
            email = None
        elif kind == "foreign":
            mobile = rng.choice([f"+1 504-{rng.randrange(200, 999)}-{i % 10000:04d}",
                                 f"+44 7911 {i % 1000000:06d}"])
        birthday = dt.date(1950 + rng.randrange(55), 1 + rng.randrange(12), 1 + rng.randrange(28)) if rng.random() < 0.7 else None
        out.append([f"M-{100000 + i}", first, last, email, mobile, birthday, rng.choice(CITIES),
                    rng.choice(COMPANIES), rng.randrange(100), "" if rng.random() < 0.8 else "called, wants a call back"])
    return out


def write_workbook(path: Path, n: int, seed: int = 20261128) -> Path:
    """Write the workbook with openpyxl's streaming writer; cached by size and seed."""
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Contacts")
    ws.append(HEADER)
    for r in rows(n, seed):
        ws.append(r)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


def cached_workbook(cache: Path, n: int, seed: int = 20261128) -> Path:
    p = cache / f"contacts-{n}-{seed}.xlsx"
    if not p.exists():
        write_workbook(p, n, seed)
    return p


MAPPING = """\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns:
  email: Email
  mobile: Mobile
  fields:
    1: First name
    2: Last name
    21: Birthday
    6: City
    7: Company
    8: Score
inwise:
  base_url: {base_url}
  api_key_env: BENCH_INWISE_KEY
  mode: {mode}
  groups: [715983]
  concurrency: {concurrency}
  batch_size: {batch_size}
  retries: 5
results:
  column: Sync result
  contact_id_column: inwise ID
new_contacts:
  tab: New contacts
state_dir: state
"""
