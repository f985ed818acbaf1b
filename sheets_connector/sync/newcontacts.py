"""Stage 3, pull: inwise's once-only new-contacts feed, kept durably, then the new-contacts tab.

Every page is handed to the store before the next one is requested (inwise gives each new
contact out only once, ever); the tab receives the contacts the store holds as pending, and they
become delivered only after the sheet holding them was saved (see writeback.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..cancel import CancelToken
from ..config import Config
from ..inwise import InwiseClient
from ..normalize import clean_text, email_key, header_key
from ..state import FeedStore
from ..tables.base import CellValue, Table
from .send import DIGITS
from .summary import Progress, RunSummary

ATTRIBUTE_HEADERS = {
    "id": "inwise ID",
    "email": "Email",
    "mobile_number": "Mobile",
    "created_date": "Created",
    "confirmation_status": "Confirmation status",
    "external_id": "External ID",
}


def new_contact_columns(config: Config, field_headers: dict[int, str]) -> list[tuple[str, str]]:
    """(attribute, header) pairs for the new-contacts tab."""
    cols = config.new_contacts.columns

    def header_for(attr: str) -> str:
        if attr in ATTRIBUTE_HEADERS:
            return ATTRIBUTE_HEADERS[attr]
        n = int(attr[5:])
        return field_headers.get(n) or f"Field {n}"

    if cols is None:
        attrs = ["id", "email", "mobile_number"] + [f"field{n}" for n in sorted(field_headers)] + ["created_date"]
        return [(a, header_for(a)) for a in attrs]
    if isinstance(cols, dict):
        return [(a.strip().lower(), h) for a, h in cols.items()]
    return [(a.strip().lower(), header_for(a.strip().lower())) for a in cols]


def _created_value(v: Any) -> Any:
    if not isinstance(v, str) or not v:
        return v
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return v
    if dt.tzinfo is not None:
        dt = dt.astimezone().replace(tzinfo=None)  # the machine's local time, as staff read it
    return dt


def contact_attribute(contact: dict[str, Any], attr: str) -> Any:
    if attr.startswith("field") and attr[5:].isdigit():
        for f in contact.get("fields") or []:
            if str(f.get("name", "")).lower() == attr:
                return f.get("content")
        return None
    v = contact.get(attr)
    if attr == "created_date":
        return _created_value(v)
    if attr == "id" and v is not None:
        try:
            return int(v)
        except (TypeError, ValueError):
            return v
    if attr == "mobile_number" and v is not None:
        return str(v)
    return v


def _id_key(v: Any) -> tuple[int, str]:
    try:
        return (int(v), "")
    except (TypeError, ValueError):
        return (0, str(v))


@dataclass
class PulledIndex:
    """What a run needs of the pulled contacts, without keeping every contact as a dict."""

    ids: set[str] = field(default_factory=set)  # pending ids, marked delivered after the save
    by_email: dict[str, int] = field(default_factory=dict)  # batch mode: matching rows to new contacts
    by_mobile: dict[str, int] = field(default_factory=dict)
    tab_rows: list[tuple[tuple[str, tuple[int, str]], str, list[CellValue]]] = field(default_factory=list)


def index_pulled(config: Config, store: FeedStore, columns: list[tuple[str, str]]) -> PulledIndex:
    """One streaming pass over the contacts pulled and not yet written to the sheet."""
    idx = PulledIndex()
    batch = config.inwise.mode == "batch"
    tab = config.new_contacts.enabled
    for c in store.iter_pending():
        key = str(c.get("id"))
        idx.ids.add(key)
        if batch:
            try:
                cid: int | None = int(c.get("id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                cid = None
            if cid is not None:
                if c.get("email"):
                    idx.by_email[email_key(str(c["email"]))] = cid
                if c.get("mobile_number"):
                    # inwise returns mobiles as international digits, the form we sent: compare
                    # digits instead of parsing every pulled number again
                    idx.by_mobile[DIGITS.sub("", str(c["mobile_number"]))] = cid
        if tab:
            order = (str(c.get("created_date") or ""), _id_key(c.get("id")))
            idx.tab_rows.append((order, key, [contact_attribute(c, a) for a, _ in columns]))
    return idx


def pull(client: InwiseClient, store: FeedStore, cancel: CancelToken, progress: Progress | None,
         summary: RunSummary, *, stop_on_cancel: bool = True) -> int:
    """Drain the feed into the store. Stops between pages once cancelled (when ``stop_on_cancel``);
    a page being received is finished and kept first: a hard stop waits for it."""
    n = 0
    pages = client.pull_new_contacts()
    while True:
        if stop_on_cancel and cancel.is_set():
            break
        with cancel.critical():
            page = next(pages, None)
            if page is None:
                break
            store.append_page(page)  # durable before the next request
        n += len(page)
        if progress:
            progress("pull", n, None)
    without_id = client.feed_items_without_id
    if without_id:
        summary.warnings.append(
            f"{without_id} new contact(s) from inwise came without an id; they are kept and added to the "
            "new-contacts tab without one.")
    lost = client.feed_answers_maybe_lost
    if lost:
        summary.warnings.append(
            f"{lost} answer(s) of inwise's new-contacts feed were cut off in transit; inwise hands each new "
            "contact out only once, so some new contacts may be missing from the new-contacts tab. "
            "They are still in inwise: export recent contacts there to check."
        )
    return n


def _existing_ids(table: Table, tab: str, columns: list[tuple[str, str]]) -> set[str]:
    """The contact ids already in the new-contacts tab (so nothing is appended twice)."""
    existing: set[str] = set()
    found = table.read_tab(tab)
    if found is None:
        return existing
    header, rows = found
    id_header = next((h for a, h in columns if a == "id"), None)
    if id_header is None:
        return existing
    idx = [i for i, h in enumerate(header) if header_key(h) == header_key(id_header)]
    if not idx:
        return existing
    for r in rows:
        v = r[idx[0]] if idx[0] < len(r) else None
        if v not in (None, ""):
            existing.add(clean_text(int(v) if isinstance(v, float) and v.is_integer() else v))
    return existing


def append_new_contacts(config: Config, table: Table, pulled: PulledIndex, columns: list[tuple[str, str]]) -> int:
    if not config.new_contacts.enabled or not pulled.tab_rows:
        return 0
    tab = config.new_contacts.tab
    existing = _existing_ids(table, tab, columns)
    # inwise's feed lists the newest first; the tab reads like a log, oldest at the top
    pulled.tab_rows.sort(key=lambda t: t[0])
    rows_out = [values for _, key, values in pulled.tab_rows if key not in existing]
    if not rows_out:
        return 0
    return table.append_rows(tab, [h for _, h in columns], rows_out)
