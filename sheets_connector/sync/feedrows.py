"""Feed items into what a run keeps of each new contact, each item read once: the new-contacts
tab's cells and the keys rows are matched by (newcontacts.py keeps the answers and indexes them).

What a column holds is defined once, on the canonical contact of ``wire.feed_contact``, by
:func:`contact_attribute`.  inwise sends its items in one shape (``wire.FEED_PLAIN_KEYS``: an
int id, ``fields`` as a list of ``{"name", "content"}``...); 95,000 of them went through that
definition at ~40 µs each, so :class:`RowReader` reads such items straight into the row, with
the columns compiled once, and hands every other shape (another spelling of a key, fields as a
dict or at the top level, text ids) to the definition.  tests/test_feed_rows.py holds the two
to the same result on varied items.

Memory: a run keeps ~100,000 of these rows until the sheet is saved, so each is a tuple, texts
that repeat (a city, a first name, a created time) are shared, and the matching keys are kept
only in batch mode (the only one matching rows to new contacts).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers

from ..config import Config
from ..inwise import feed_contact
from ..inwise.wire import FEED_PLAIN_KEYS, feed_fields, feed_iso_date, feed_text, field_number
from ..normalize import email_key
from ..phoneshape import by_shape
from ..state import feed
from ..tables.base import CellValue
from .send import DIGITS

# (contact id as text, numeric id or None, email key, mobile digits, created date as ISO text,
#  the id as inwise gave it (for the tab's order), the tab's cells)
Entry = tuple[str, "int | None", str, str, str, Any, tuple[CellValue, ...]]
SHARED_MAX = 1 << 16  # distinct texts shared per run (what repeats: names, cities, created times)


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


def mobile_as_written(number: Any, region: str | None) -> str:
    """A mobile as staff write it: national for the sheet's country (058-621-8927), international
    for others (+44 7911 123456); as inwise gave it when it is no phone number at all."""
    text = str(number)
    digits = DIGITS.sub("", text)
    if not digits:
        return text
    return _written_for(region)(digits) or text


def _format_written(digits: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    if region and parsed.country_code == phonenumbers.country_code_for_region(region):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=32)
def _written_for(region: str | None) -> Callable[[str], str | None]:
    """One formatter per region, phonenumbers asked once per number shape (phoneshape.py).  An
    Israeli feed's mobiles have ~7,000 shapes (prefix and three more digits): room for all."""
    return by_shape(lambda digits: _format_written(digits, region), maxsize=1 << 16)


def contact_attribute(contact: dict[str, Any], attr: str, region: str | None = None) -> Any:
    """What the tab's column ``attr`` shows of a canonical contact (``wire.feed_contact``)."""
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
        return mobile_as_written(v, region)
    return v


def id_order(v: Any) -> tuple[int, str]:
    """Sort key of an id as inwise gave it: numbers by value, the odd text id after 0."""
    try:
        return (int(v), "")
    except (TypeError, ValueError):
        return (0, str(v))


def canonical_entry(config: Config, c: dict[str, Any], columns: list[tuple[str, str]]) -> Entry:
    """The entry of one canonical contact, by the definition (:func:`contact_attribute`)."""
    try:
        cid: int | None = int(c.get("id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        cid = None
    email = email_key(str(c["email"])) if c.get("email") else ""
    # inwise returns mobiles as international digits, the form we sent: compare digits instead of
    # parsing every pulled number again
    mobile = DIGITS.sub("", str(c["mobile_number"])) if c.get("mobile_number") else ""
    cells: tuple[CellValue, ...] = ()
    if config.new_contacts.enabled:
        region = config.inwise.mobile.region
        cells = tuple(contact_attribute(c, a, region) for a, _ in columns)
    return (feed.contact_id(c) or "", cid, email, mobile, str(c.get("created_date") or ""), c.get("id"), cells)


# what the compiled columns take from the scalars of a plain item (field numbers are >= 0: 0 is a
# "field<N>" column that can never match, like "field07")
_ID, _EMAIL, _MOBILE, _CREATED, _STATUS, _EXTERNAL = -1, -2, -3, -4, -5, -6
_SCALARS = {"id": _ID, "email": _EMAIL, "mobile_number": _MOBILE, "created_date": _CREATED,
            "confirmation_status": _STATUS, "external_id": _EXTERNAL}


class RowReader:
    """Reads feed items (as decoded, any shape) into :data:`Entry` tuples; None for an item that
    is not a contact (``state.feed.contact_id``)."""

    def __init__(self, config: Config, columns: list[tuple[str, str]]) -> None:
        self.config = config
        self.columns = columns
        self.match = config.inwise.mode == "batch"
        self.tab = config.new_contacts.enabled
        self.region = config.inwise.mobile.region
        self.slots = tuple(_slot(a) for a, _ in columns) if self.tab else ()
        self.scalars = bool(self.tab and any(s < 0 for s in self.slots))
        self.fields = bool(self.tab and any(s >= 0 for s in self.slots))
        self.written = _written_for(self.region) if _MOBILE in self.slots else None
        self.want_created = _CREATED in self.slots
        self.numbers: dict[str, int | None] = {}  # a field's name -> its number
        self.shared: dict[str, str] = {}  # texts that repeat, kept once
        self.created: dict[str, tuple[str, Any]] = {}  # created date as given -> (ISO text, cell)

    def entry(self, item: Any) -> Entry | None:
        if type(item) is dict and item.keys() <= FEED_PLAIN_KEYS:
            v = item.get("id")
            if type(v) is int and v > 0:
                return self._plain(item, v)
        if feed.contact_id(item) is None:
            return None
        e = canonical_entry(self.config, feed_contact(item), self.columns)
        return e if not self.tab else e[:6] + (tuple(self._share(x) for x in e[6]),)

    def canonical(self, contact: dict[str, Any]) -> Entry:
        """The entry of a contact already in the canonical shape (read back from the store)."""
        return canonical_entry(self.config, contact, self.columns)

    def _share(self, x: Any) -> Any:
        if type(x) is not str or len(self.shared) >= SHARED_MAX:
            return x
        return self.shared.setdefault(x, x)

    def _plain(self, item: dict[str, Any], cid: int) -> Entry:
        """What canonical_entry(feed_contact(item)) gives, for an item of the plain shape."""
        email = item.get("email")
        if email is not None:
            email = (email if type(email) is str else feed_text(email)).strip() or None
        mobile = item.get("mobile_number")
        if mobile is not None and not (type(mobile) is str and mobile.isascii() and mobile.isdigit()):
            mobile = DIGITS.sub("", feed_text(mobile)) or None
        given = item.get("created_date")
        created: str | None
        cell: Any = None
        if given is None or given == "":
            created = None
        elif type(given) is str:
            known = self.created.get(given)
            if known is None:
                created = feed_iso_date(given)
                known = (created or "", _created_value(created))
                if len(self.created) < SHARED_MAX:
                    self.created[given] = known
            created, cell = known
        else:
            created = feed_iso_date(given)
            cell = _created_value(created)
        cells: tuple[CellValue, ...] = ()
        if self.tab:
            values: dict[int, Any] = self._fields(item.get("fields")) if self.fields else {}
            if self.scalars:
                values[_ID] = cid
                values[_EMAIL] = email
                if self.written is not None and mobile is not None:
                    values[_MOBILE] = self.written(mobile) or mobile
                values[_CREATED] = cell
                values[_STATUS] = item.get("confirmation_status")
                values[_EXTERNAL] = item.get("external_id")
            cells = tuple(map(values.get, self.slots))
        key_email = key_mobile = ""
        if self.match:
            if email:
                # what email_key gives, without its passes over a plain address (nothing to clean)
                plain = email.isascii() and email.isprintable() and " " not in email
                key_email = email.lower() if plain else email_key(email)
                if key_email == email:
                    key_email = email  # one text, not two
            key_mobile = mobile or ""
        return (str(cid), cid, key_email, key_mobile, created or "", cid, cells)

    def _fields(self, value: Any) -> dict[int, Any]:
        """Personal fields by number, as ``wire.feed_fields`` reads them (the first of a number wins)."""
        if type(value) is not list:
            return {n: self._share(t) for n, t in feed_fields(value).items()}
        found: dict[int, Any] = {}
        numbers, shared = self.numbers, self.shared
        for entry in value:
            name = entry.get("name") if type(entry) is dict else None
            if type(name) is str and "content" in entry:
                number = numbers.get(name, 0)
                if number == 0:
                    number = field_number(name, bare=True)
                    if len(numbers) < SHARED_MAX:
                        numbers[name] = number
                if number is not None and number not in found:
                    text = entry["content"]
                    if type(text) is not str:
                        text = feed_text(text)
                    if len(shared) < SHARED_MAX:
                        text = shared.setdefault(text, text)
                    found[number] = text
            else:  # another spelling of the entry's keys
                for number, text in feed_fields([entry]).items():
                    if number not in found:
                        found[number] = self._share(text)
        return found


def _slot(attr: str) -> int:
    """A column as a key of RowReader's values: a field's number, or a scalar (< 0)."""
    if attr in _SCALARS:
        return _SCALARS[attr]
    if attr.startswith("field") and attr[5:].isdigit():
        n = int(attr[5:])
        return n if attr == f"field{n}" else 0  # "field07" never names a field (contact_attribute)
    raise ValueError(f"unknown contact attribute {attr!r}")  # config.py allows no other
