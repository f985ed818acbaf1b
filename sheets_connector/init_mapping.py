"""``sheets-connector init WORKBOOK``: a commented mapping written from the workbook's header row
(a Google Sheet's address instead of a workbook: see ``init_gsheet.py``).

Most people who keep contacts in Excel have never written YAML.  ``propose`` reads the header
row and recognises the usual columns in English and Hebrew (``Email``/``E-mail``/``אימייל``/
``דוא"ל``, ``Mobile``/``Cell``/``נייד``/``פלאפון``, ``First name``/``שם פרטי`` ...); a column
whose header says nothing is still taken as the email or mobile column when its cells are
email addresses or mobile numbers.  ``init_country.guess_country`` reads the mobile numbers to choose the
default country (local ``05x`` numbers: IL; 10-digit North American numbers: US) and says why.
``render`` writes the YAML with a comment on every line that needs one; ``write_mapping`` puts
it next to the workbook, never over an existing file, and only after checking that it loads.

inwise's personal fields are numbered, and only three numbers are documented (field1 first
name, field2 last name, field21 birthday).  Columns such as the city are recognised but left as
commented suggestions that say to look the number up in inwise, rather than guessed.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from . import messages
from .config import load_config, parse_config
from .contacts import column_letter
from .errors import ConfigError, SourceError
from .init_country import (
    CANDIDATE_REGIONS,
    DEFAULT_COUNTRY,
    SAMPLE,
    CountryGuess,
    guess_country,
    international_mobile,
    mobiles_of,
)
from .messages.catalog import Said, msg, said
from .messages.language import mapping_language
from .normalize import ValueProblem, clean_text, country_name, header_key, is_blank, normalize_email
from .paths import resolve_user_path
from .perrow import GROUP_SEPARATORS
from .tables.base import TableData
from .tables.xlsx import XlsxTable

__all__ = ["Found", "InitResult", "Proposal", "mapping_path_for", "propose", "recognise", "render",
           "write_mapping"]


@dataclass(frozen=True)
class Role:
    """A kind of column: where it goes in the mapping and the headers that name it."""

    key: str  # email, mobile, external_id, field1, ..., or a suggestion's name (city)
    label: str  # for people: "first name"
    target: str | int | None  # "email" / "mobile" / "external_id", a field number, or None (number unknown)
    names: tuple[str, ...]  # headers that mean it (compared by _norm)
    strength: int = 2  # a specific name (Mobile) beats a generic one (Phone) for the same target


# Synonyms as people type them; _norm() makes "E-mail", "e mail" and "EMAIL" one key.
ROLES: tuple[Role, ...] = (
    Role("email", "email", "email", (
        "email", "e-mail", "e mail", "mail", "email address", "e-mail address", "emails",
        "אימייל", "אי-מייל", "אי מייל", 'דוא"ל', "דוא״ל", "דואל", "מייל", "כתובת מייל", "כתובת אימייל",
        'כתובת דוא"ל', "דואר אלקטרוני", "כתובת דואר אלקטרוני")),
    Role("mobile", "mobile", "mobile", (
        "mobile", "mobile phone", "mobile number", "mobile no", "mobile phone number", "cell", "cell phone",
        "cellphone", "cellular", "cell number", "cell no", "sms", "נייד", "טלפון נייד", "מספר נייד", "מס נייד",
        "פלאפון", "פלאפון נייד", "סלולרי", "סלולר", "טלפון סלולרי")),
    Role("phone", "phone", "mobile", (
        "phone", "phone number", "phone no", "telephone", "tel", "טלפון", "מספר טלפון", "מס טלפון", "מס' טלפון"),
        strength=1),
    Role("external_id", "your own id for the contact", "external_id", (
        "external id", "member no", "member no.", "member number", "membership number", "member id", "customer id",
        "customer number", "customer no", "client id", "client number", "מספר חבר", "מס חבר", "מס' חבר",
        "מספר לקוח", "מס לקוח", "מס' לקוח")),
    Role("field1", "first name", 1, (
        "first name", "firstname", "first", "given name", "fname", "forename", "שם פרטי", "פרטי")),
    Role("name", "name (the whole name)", 1, (
        "name", "full name", "contact name", "שם", "שם מלא", "שם איש קשר"), strength=1),
    Role("field2", "last name", 2, (
        "last name", "lastname", "surname", "family name", "lname", "שם משפחה", "משפחה")),
    Role("field21", "birthday", 21, (
        "birthday", "birth date", "birthdate", "date of birth", "dob", "born", "תאריך לידה", "יום הולדת",
        "יומולדת", "ת. לידה", "ת לידה")),
    # what staff say per row (perrow.py): mapped under columns.groups / consent / do_not_sync
    Role("groups", "groups", "groups", (
        "groups", "group", "lists", "list", "mailing lists", "tags", "segments", "קבוצות", "קבוצה", "רשימות",
        "רשימת תפוצה", "רשימות תפוצה", "תגיות")),
    Role("consent", "marketing consent", "consent", (
        "consent", "marketing consent", "opt in", "optin", "opt-in", "subscribed", "newsletter consent",
        "email consent", "gdpr consent", "אישור דיוור", "אישור דיוור ופרסום", "הסכמה", "הסכמה לדיוור",
        "אישור קבלת דיוור", "מאשר דיוור", "דיוור")),
    Role("do_not_sync", "do not sync", "do_not_sync", (
        "do not sync", "don't sync", "dont sync", "no sync", "skip", "hold", "hold back", "do not send",
        "לא לסנכרן", "אל תסנכרן", "לא לשלוח", "לעכב", "עצור")),
    # recognised, but inwise documents no field number for them: suggestions only
    Role("city", "city", None, ("city", "town", "עיר", "ישוב", "יישוב", "מקום מגורים", "עיר מגורים")),
    Role("address", "address", None, ("address", "street", "street address", "home address", "כתובת", "רחוב",
                                      "כתובת מגורים")),
    Role("zip", "zip / postal code", None, ("zip", "zip code", "zipcode", "postal code", "postcode", "מיקוד")),
    Role("country", "country", None, ("country", "ארץ", "מדינה")),
    Role("gender", "gender", None, ("gender", "sex", "מין", "מגדר")),
    Role("company", "company", None, ("company", "company name", "organization", "organisation", "employer",
                                      "business", "חברה", "שם חברה", "ארגון", "עסק", "מקום עבודה")),
    Role("job_title", "job title", None, ("job title", "title", "position", "role", "job", "תפקיד")),
    Role("id_number", "ID number", None, ("id number", "national id", "identity number", "תעודת זהות", 'ת"ז', "תז",
                                          "ת.ז.", "מספר זהות")),
    Role("landline", "landline phone", None, ("home phone", "work phone", "landline", "office phone",
                                              "טלפון בבית", "טלפון קווי", "טלפון בעבודה", "טלפון עבודה")),
)

FIELD_NUMBER_HINT = ("To send one of the columns below, inwise needs the number of its personal field: find it in\n"
                     "inwise, in the list of personal fields. Then, on that column's line, delete the '# ' at the\n"
                     "start and replace N by that number, e.g.  6: 'City'")

HEADER_SEARCH = 10  # rows looked at for the header when row 1 does not name an email or mobile column
CONTENT_SHARE = 0.6  # share of a column's cells that must be emails (mobiles) to call it the email (mobile) column


def _norm(text: object) -> str:
    """How headers are compared: case, spaces, punctuation, quotes and niqqud ignored."""
    return "".join(ch for ch in header_key(text) if ch.isalnum())


_BY_NAME: dict[str, Role] = {}
for _r in ROLES:
    for _name in _r.names:
        _BY_NAME.setdefault(_norm(_name), _r)


@dataclass(frozen=True)
class Found:
    """A column and what it was recognised as."""

    role: Role
    index: int  # 0-based column index
    header: str
    how: str  # "header", or why the cells made it that column

    @property
    def letter(self) -> str:
        return column_letter(self.index)


@dataclass
class Proposal:
    """Everything ``init`` learnt from the workbook, before anything is written."""

    workbook: Path
    sheet: str
    header_row: int
    header: list[str]
    columns: dict[str, Found] = field(default_factory=dict)  # target ("email", "mobile", "external_id", "field1") -> column
    suggestions: list[Found] = field(default_factory=list)  # recognised, field number unknown (city ...)
    others: list[tuple[int, str]] = field(default_factory=list)  # (index, header) not recognised
    results_headers: list[str] = field(default_factory=list)  # a previous sync's result columns, found in the header
    country: CountryGuess = field(default_factory=lambda: CountryGuess(DEFAULT_COUNTRY, "", False))
    other_sheets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what the cells contradicted (Said: printed in the language)
    group_names: list[str] = field(default_factory=list)  # the distinct names in the groups column
    title: str = ""  # how to name the source when it is not a file: "the Google Sheet 'Members'"
    source_lines: list[str] = field(default_factory=list)  # the mapping's source section, if not an .xlsx

    @property
    def name(self) -> str:
        return self.title or self.workbook.name

    @property
    def language(self) -> str:
        """Hebrew when most of the header row is written in Hebrew: the staff read Hebrew."""
        named = [h for h in self.header if not is_blank(h)]
        hebrew = sum(1 for h in named if messages.has_hebrew(clean_text(h)))
        return "he" if named and hebrew * 2 >= len(named) else "en"

    @property
    def has_key(self) -> bool:
        return "email" in self.columns or "mobile" in self.columns


# --- recognising columns --------------------------------------------------------------------------


def recognise(header: Sequence[str], rows: Sequence[Sequence[Any]] = ()) -> Proposal:
    """Which column is what, from the headers and, for the email and mobile, the cells."""
    p = Proposal(workbook=Path(), sheet="", header_row=1, header=list(header))
    results = {header_key(h) for h in (messages.header("results", "en"), messages.header("results", "he"),
                                        "inwise ID", "Last synced") if h}
    claimed: dict[str | int, Found] = {}
    unknown: list[int] = []
    for i, h in enumerate(header):
        if is_blank(h):
            continue
        if header_key(h) in results:
            p.results_headers.append(h)
            continue
        role = _BY_NAME.get(_norm(h))
        if role is None:
            unknown.append(i)
            continue
        found = Found(role, i, h, "header")
        if role.target is None:
            p.suggestions.append(found)
            continue
        held = claimed.get(role.target)
        if held is None or role.strength > held.role.strength:
            if held is not None:
                _demote(p, held)
            claimed[role.target] = found
        else:
            _demote(p, found)
    for target in ("email", "mobile"):
        held = claimed.get(target)
        if held is None:
            continue
        values = _column(rows, held.index)
        misfit = _misfit(target, values)
        if misfit:
            del claimed[target]
            unknown.append(held.index)
            p.warnings.append(said("init.misfit", letter=held.letter, header=held.header, target=msg(f"init.t_{target}"),
                                   misfit=misfit))
    unknown.sort()
    for target in ("email", "mobile"):
        if target in claimed:
            continue
        for i in list(unknown):
            if any(w.startswith(f"column {column_letter(i)} ") for w in p.warnings):
                continue
            how = _looks_like(target, _column(rows, i))
            if how:
                claimed[target] = Found(_role(target), i, header[i], how)
                unknown.remove(i)
                break
    p.columns = {_target_key(t): f for t, f in claimed.items()}
    if "groups" in claimed:
        p.group_names = _group_names(_column(rows, claimed["groups"].index))
    p.others = [(i, header[i]) for i in unknown]
    return p


def _group_names(values: list[Any]) -> list[str]:
    """The distinct group names of a groups column, in order of first appearance."""
    seen: dict[str, str] = {}
    for v in values:
        if isinstance(v, str):
            for part in GROUP_SEPARATORS.split(v):
                name = clean_text(part)
                if name:
                    seen.setdefault(header_key(name), name)
    return list(seen.values())


def _demote(p: Proposal, found: Found) -> None:
    """A second column for a target already taken (Phone next to Mobile): list it, don't map it."""
    if found.role.key == "phone":
        p.suggestions.append(Found(_role("landline"), found.index, found.header, "header"))
    else:
        p.others.append((found.index, found.header))


def _role(key: str) -> Role:
    return next(r for r in ROLES if r.key == key)


def _target_key(target: str | int) -> str:
    return f"field{target}" if isinstance(target, int) else target


def _column(rows: Sequence[Sequence[Any]], i: int) -> list[Any]:
    values = []
    for r in rows:
        v = r[i] if i < len(r) else None
        if not is_blank(v):
            values.append(v)
            if len(values) >= SAMPLE:
                break
    return values


def _looks_like(target: str, values: list[Any]) -> str:
    """Why a column's cells make it the email (mobile) column (a ``Said``), or ""."""
    if len(values) < 2:
        return ""
    if target == "email":
        good = sum(1 for v in values if _is_email(v))
        what = "init.w_emails"
    else:
        # a header that says nothing: the likeliest countries are enough to see it holds mobiles
        good = max((mobiles_of(values, region)[0] for region in CANDIDATE_REGIONS[:3]), default=0)
        good = max(good, sum(1 for v in values if international_mobile(v)))
        what = "init.w_mobiles"
    if good >= CONTENT_SHARE * len(values):
        return said("init.h_cells", good=good, n=len(values), what=msg(what))
    return ""


def _misfit(target: str, values: list[Any]) -> Said | None:
    """Why a column's cells say it is not the email (mobile) column its header names, or None."""
    if len(values) < 3:
        return None
    if target == "email":
        good = sum(1 for v in values if _is_email(v))
        what = "init.w_emails"
    else:
        good = sum(1 for v in values if _phone_like(v))
        what = "init.w_phones"
    if good * 2 >= len(values):
        return None
    example = next((clean_text(v) for v in values if not (_is_email(v) if target == "email" else _phone_like(v))), "")
    return said("init.misfit_cells", good=good, n=len(values), what=msg(what), example=example[:30])


def _phone_like(value: Any) -> bool:
    """A cell that reads as a phone number of some kind (usable or not): 7+ digits, no date or words."""
    if isinstance(value, (date, bool)) or not isinstance(value, (str, int, float)):
        return False
    text = clean_text(value)
    if _DATE_TEXT.match(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    letters = sum(ch.isalpha() for ch in text)
    return digits >= 7 and letters <= 3


_DATE_TEXT = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?$")


def _is_email(value: Any) -> bool:
    try:
        normalize_email(value)
    except ValueProblem:
        return False
    return True


# --- reading the workbook -----------------------------------------------------------------------------


def _worksheets(path: Path) -> list[str]:
    """The visible worksheets, in order (the table itself has already checked the file)."""
    with CalamineWorkbook.from_path(str(path)) as wb:
        return [m.name for m in wb.sheets_metadata
                if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible]


def _top_rows(path: Path, sheet: str, n: int) -> list[list[Any]]:
    """The first ``n`` rows of a sheet as they are (row 1 first), for finding the header row."""
    with CalamineWorkbook.from_path(str(path)) as wb:
        return [list(r) for r in wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False, nrows=n)]


def propose(workbook: Path, sheet: str | None = None) -> Proposal:
    """Read the workbook's header row (row 1, or the first of rows 1-10 that names an email or
    mobile column when row 1 does not) and recognise its columns."""
    table = XlsxTable(workbook, sheet)
    data = table.read()  # every check of the file, with its plain messages
    names = _worksheets(table.path)
    name = sheet if sheet is not None else (names[0] if names else "")
    header_row = _header_row(data, _top_rows(table.path, name, HEADER_SEARCH))
    if header_row != data.header_row:
        data = XlsxTable(workbook, name, header_row).read()
    proposal = propose_from(data)
    proposal.workbook, proposal.sheet, proposal.header_row = table.path, name, header_row
    proposal.other_sheets = [n for n in names if n != name]
    return proposal


def propose_from(data: TableData) -> Proposal:
    """The columns of a table read below its header row, and the country of its mobiles (any
    source: a workbook here, a Google Sheet in ``init_gsheet``)."""
    proposal = recognise(data.header, [list(r.values) for r in data.rows])
    mobile = proposal.columns.get("mobile")
    if mobile is not None:
        cells = [r.values[mobile.index] for r in data.rows if mobile.index < len(r.values)]
        proposal.country = guess_country(cells, mobile.header)
    return proposal


def _header_row(data: TableData, top: list[list[Any]]) -> int:
    """Row 1 usually holds the headers; a title above them moves them down a few rows."""
    if recognise(data.header, [list(r.values) for r in data.rows[:SAMPLE]]).has_key:
        return data.header_row
    for number, cells in enumerate(top, start=1):
        p = recognise([clean_text(v) for v in cells])
        if p.has_key:
            return number
    return data.header_row


# --- writing the mapping ---------------------------------------------------------------------------------


def mapping_path_for(workbook: Path) -> Path:
    """Where ``init`` writes the mapping for a workbook: next to it, ``<name>.mapping.yaml``."""
    return workbook.with_name(f"{workbook.stem}.mapping.yaml")


def _q(text: str) -> str:
    """A YAML scalar for any text: single quotes (no escapes, so Windows paths stay as they are);
    JSON-style double quotes for text with line breaks or control characters."""
    if any(ord(c) < 32 for c in text):
        return json.dumps(text, ensure_ascii=False)
    return "'" + text.replace("'", "''") + "'"


def _line(code: str, comment: str = "", width: int = 34) -> str:
    return f"{code:<{width}} # {comment}" if comment else code


def render(p: Proposal, mapping_path: Path, today: date | None = None) -> str:
    """The mapping file's text: recognised columns filled in, everything else as comments."""
    written = (today or date.today()).isoformat()
    cmd = _shell_quote(str(mapping_path.name))
    out = [
        f"# sheets-connector mapping for {p.name}, sheet '{p.sheet}', written by `sheets-connector init` on {written}.",
        "# Lines starting with # are comments. Check what the connector will send, then send:",
        f"#   sheets-connector check --config {cmd}",
        f"#   sheets-connector sync --config {cmd} --dry-run    (sends nothing)",
        f"#   sheets-connector sync --config {cmd}",
        "# Every key is described by `sheets-connector schema`.",
        "",
        *(p.source_lines or _xlsx_source(p, mapping_path)),
        "",
        "# Headers match ignoring upper/lower case and spaces.",
        "columns:",
    ]
    c = p.columns
    for key, text in (("email", "email"), ("mobile", "mobile")):
        f = c.get(key)
        if f is not None:
            out.append(_line(f"  {key}: {_q(f.header)}", _why(f)))
        else:
            out.append(_line(f"  # {key}:", f"no {text} column found; write its header here if there is one"))
    f = c.get("external_id")
    if f is not None:
        out.append(_line(f"  external_id: {_q(f.header)}", f"{_why(f)}; sent as external_id (upsert mode)"))
    for key, note in (("groups", "each contact's groups: names listed under groups: below, or group IDs"),
                      ("consent", "yes/no, כן/לא, a ticked box or a date; rows without consent are not sent"),
                      ("do_not_sync", "a row with anything in this column is held back")):
        f = c.get(key)
        if f is not None:
            out.append(_line(f"  {key}: {_q(f.header)}", f"{_why(f)}; {note}"))
    fields = sorted((int(k[5:]), f) for k, f in c.items() if k.startswith("field"))
    out.append("  fields:" if fields else _line("  fields: {}", "no first name / last name / birthday column found"))
    out.append("    # inwise personal fields by number: 1 first name, 2 last name, 21 birthday")
    for number, f in fields:
        note = f.role.label
        if f.role.key == "name":
            note = "the whole name; inwise's field 1 is the first name"
        out.append(_line(f"    {number}: {_q(f.header)}", f"{note}, {_why(f)}"))
    if p.suggestions:
        out += [f"    # {line}" for line in FIELD_NUMBER_HINT.splitlines()]
        for s in p.suggestions:
            out.append(_line(f"    # N: {_q(s.header)}", f"{s.role.label}, column {s.letter}"))
    if p.others:
        shown = ", ".join(f"{_q(h)} ({column_letter(i)})" for i, h in p.others)
        out.append(f"  # Not sent (not recognised): {shown}. To send one, add it under fields with its inwise field number.")
    out += [
        "",
        _line("date_format: dd/mm/yyyy", "how date cells (birthday) are sent"),
        _line(f"language: {p.language}", "the staff's language for results, headers and dates: he (Hebrew) or en (English)"),
        *_group_table_lines(c.get("groups"), p.group_names),
        "",
        "inwise:",
        _line("  api_key_env: INWISE_API_KEY", "the NAME of the environment variable holding your API key"),
        _line("  mode: upsert", "one call per row, a precise result per row (batch: faster for big lists)"),
        _line("  # groups: [123456]", "inwise group IDs to add every contact to"),
        "  mobile:",
        *_country_lines(p.country),
        "",
        "results:",
    ]
    results_column = p.results_headers[0] if p.results_headers else messages.header("results", p.language)
    out.append(_line(f"  column: {_q(results_column)}", "each row's outcome; added after your last column if missing"))
    out += [
        "",
        "new_contacts:",
        _line(f"  tab: {_q(messages.header('new_contacts_tab', p.language))}", "contacts inwise newly created are added to this tab"),
        "",
    ]
    return "\n".join(out)


def _group_table_lines(found: Found | None, names: Sequence[str]) -> list[str]:
    """The groups: table a groups column needs: the names found in it, their IDs to fill in
    (an inwise group ID cannot be guessed)."""
    if found is None:
        return []
    shown = [n for n in names if not n.isdigit()] or ["VIP", "Newsletter"]
    return ["", f"# The group names written in column {found.letter} ('{found.header}') and their inwise groups. For each",
            "# name, find its group's ID in inwise (Contacts > Groups); then, on the name's line, delete the '# '",
            "# at the start and replace ID by that number, e.g.  'VIP': 123456. A row whose group name has no",
            "# line here is marked invalid and not sent. Group IDs typed in the column need no line.",
            "groups:", *[f"  # {_q(n)}: ID" for n in shown]]


def _xlsx_source(p: Proposal, mapping_path: Path) -> list[str]:
    try:
        source_path = os.path.relpath(p.workbook, mapping_path.parent)
    except ValueError:  # another drive on Windows
        source_path = str(p.workbook)
    return [
        "source:",
        "  type: xlsx",
        _line(f"  path: {_q(source_path)}", "relative to this file"),
        _line(f"  worksheet: {_q(p.sheet)}", "the tab with the contacts"),
        _line(f"  header_row: {p.header_row}", "the row holding the column names"),
    ]


def _country_lines(guess: CountryGuess) -> list[str]:
    """The default_country line: the guess and why, or (no clear answer) none, with the choices."""
    if guess.region is not None:
        return [_line(f"    default_country: {guess.region}",
                      ("guessed: " if guess.guessed else "") + (guess.reason or "the country of numbers written without a country code"))]
    out = [f"    # {guess.reason}.",
           "    # Numbers written without a country code are refused until you choose their country: replace none",
           "    # by it (a two-letter code such as IL, US, GB). Numbers written with + and a code are read as they are."]
    for region, n in guess.candidates:
        out.append(_line(f"    # default_country: {region}", f"{n} numbers fit {country_name(region)}"))
    out.append(_line("    default_country: none", "not chosen: see above"))
    return out


def _label(role: Role) -> object:
    """A suggested column's kind in the staff's words (its Hebrew name in a Hebrew summary)."""
    return msg(f"init.role_{role.key}") if role.target is None or role.key == "landline" else role.label


def _why(f: Found) -> str:
    return f"column {f.letter}" + ("" if f.how == "header" else f" ({f.how})")


def _shell_quote(text: str) -> str:
    """A path as the user would type it in their shell."""
    if os.name == "nt":
        return f'"{text}"' if any(c in text for c in ' &()[]{}^=;!+,`~') else text
    return shlex.quote(text)


@dataclass
class InitResult:
    proposal: Proposal
    mapping: Path

    def summary_lines(self) -> list[str]:
        """What init did, for people: the file, the columns it mapped, its guesses and why; in Hebrew
        for a Hebrew header row."""
        p = self.proposal

        def say(key: str, **values: object) -> str:
            return messages.render(messages.msg(key, **values), p.language)

        lines = [say("init.wrote", mapping=_as_typed(self.mapping), name=p.name, sheet=p.sheet, row=p.header_row)]
        for key in ("email", "mobile", "external_id", "groups", "consent", "do_not_sync", "field1", "field2", "field21"):
            f = p.columns.get(key)
            if f is not None:
                label = say(f"check.field_{key[5:]}") if key.startswith("field") else ""
                target = key if not key.startswith("field") else f"{key} ({label})"
                lines.append(say("init.column", target=f"{target:<24}", letter=f.letter, header=f.header,
                                 how="" if f.how == "header" else messages.msg("init.how", how=f.how)))
        if p.suggestions:
            lines.append(say("init.recognised", headers=", ".join(say("init.suggestion", header=s.header, label=_label(s.role))
                                                                  for s in p.suggestions)))
        if p.others:
            lines.append(say("init.not_recognised", headers=", ".join(f"'{h}'" for _i, h in p.others)))
        if "mobile" in p.columns:
            if p.country.region is None:
                lines.append(say("init.no_country", reason=p.country.reason))
            else:
                lines.append(say("init.country" if p.country.guessed else "init.country_kept", region=p.country.region,
                                 reason=p.country.reason))
        lines += [say("init.note", text=w) for w in p.warnings]
        return lines

    def next_lines(self) -> list[str]:
        path = _shell_quote(_as_typed(self.mapping))
        language = self.proposal.language
        placeholder = messages.render(msg("init.api_key"), language)
        key = f"set INWISE_API_KEY={placeholder}" if os.name == "nt" else f"export INWISE_API_KEY={placeholder}"
        return [
            messages.render(messages.msg("init.next"), language),
            f"  {key}",
            f"  sheets-connector sync --config {path} --dry-run",
            messages.render(messages.msg("init.then", command=f"sheets-connector sync --config {path}"), language),
        ]


def _as_typed(path: Path) -> str:
    """The path relative to the current folder when it is below it, else as it is."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def write_mapping(workbook: str | os.PathLike[str], *, sheet: str | None = None, output: str | os.PathLike[str] | None = None,
                  today: date | None = None, credentials: str | None = None, oauth: bool = False,
                  api_url: str | None = None) -> InitResult:
    """Write the mapping for ``workbook`` (see the module docstring) and return what was done.

    ``workbook`` may also be a Google Sheet's address or key (see ``init_gsheet``), read with
    ``credentials`` (a key file, or with ``oauth`` an OAuth client file) or through ``api_url``.

    Raises ``ConfigError`` if the mapping file exists already (it is never overwritten) or no
    email or mobile column can be found (then nothing is written); ``SourceError`` for a
    workbook that cannot be read.
    """
    from .init_gsheet import GoogleInit, is_google_sheet, mapping_path_for_sheet, propose_google

    google = None
    if is_google_sheet(os.fspath(workbook)):
        cred = resolve_user_path(credentials, Path.cwd()) if credentials else None
        google = GoogleInit(os.fspath(workbook).strip(), Path(os.path.abspath(cred)) if cred else None, oauth, api_url)
        folder = Path(os.path.abspath(os.path.expanduser(os.fspath(output)))).parent if output else Path.cwd()
        p, title = propose_google(google, folder, sheet)
        target = Path(os.path.abspath(os.path.expanduser(os.fspath(output)))) if output else mapping_path_for_sheet(title, folder)
    else:
        book = resolve_user_path(os.fspath(workbook), Path.cwd())  # data\Contacts.xlsx, ~/..., as in a mapping
        target = Path(os.path.abspath(os.path.expanduser(os.fspath(output)))) if output else mapping_path_for(Path(os.path.abspath(book)))
    if target.exists():
        exists = ConfigError(said("init.exists", target=str(target), quoted=_shell_quote(_as_typed(target))))
        exists.language = mapping_language(target)  # the existing mapping's language
        raise exists
    if google is None:
        p = propose(book, sheet)
    if not p.has_key:
        headers = ", ".join(f"{column_letter(i)} '{h}'" for i, h in enumerate(p.header) if not is_blank(h))
        tabs = msg("init.other_tabs", tabs=", ".join(repr(s) for s in p.other_sheets)) if p.other_sheets else ""
        error = ConfigError(said("init.no_key_column", name=p.name, sheet=p.sheet, row=p.header_row, headers=headers,
                                 tabs=tabs))
        error.language = p.language  # no mapping yet: the header row's language
        raise error
    text = render(p, target, today)
    parse_config(text, where=target.name, base_dir=target.parent)  # what we write must load
    try:
        with open(target, "x", encoding="utf-8", newline="\n") as f:  # "x": never over a file that appeared meanwhile
            f.write(text)
    except FileExistsError:
        exists = ConfigError(said("init.exists_now", target=str(target)))
        exists.language = mapping_language(target) or p.language
        raise exists from None
    except OSError as e:
        cannot = SourceError(said("init.cannot_write", target=str(target), why=e.strerror or str(e)))
        cannot.language = p.language
        raise cannot from None
    load_config(target)
    return InitResult(p, target)

