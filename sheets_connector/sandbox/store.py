"""The sandbox's contacts and inwise's rules for them: matching, mobiles, fields, groups, the feed.

:class:`ContactStore` is what the sandbox holds: contacts indexed by email and by normalised
mobile, the once-only feed of created contacts, and (optionally) a JSON state file so a demo
survives restarts.  Its request methods take the decoded JSON body of an API call and return
the answer's JSON, or raise :class:`BadRequest` with inwise's status and message.

What inwise does not document (the success body, the batchInsert answer, the exact mobile
rules, 400 messages...) is the sandbox's own choice, made here.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import SandboxError
from ..fsutil import atomic_write_text
from ..inwise.wire import FEED_PAGE_SIZE

MOBILE_MIN_DIGITS = 8
MOBILE_MAX_DIGITS = 15
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
FIELD_NAME_RE = re.compile(r"^field(\d+)$", re.IGNORECASE)
MSG_REQUIRED = "Email or mobile number is required."
MSG_CONFLICT_EMAIL = "The email exists for contact ID #{id}."
MSG_CONFLICT_MOBILE = "The mobile number exists for contact ID #{id}."
STATE_FORMAT = "inwise-sandbox-state"
STATE_VERSION = 1
FIRST_ID = 439130001


class BadRequest(Exception):
    """Raised inside request handling; becomes a JSON answer ``{"message": ...}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --------------------------------------------------------------------------------------------
# Validation and normalisation of one contact's values
# --------------------------------------------------------------------------------------------
def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_text(value: Any, name: str) -> str:
    """A JSON scalar as stripped text; None -> ""."""
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise BadRequest(f"{name} must be text, got {json.dumps(value)}.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _as_bool(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BadRequest(f"{name} must be true or false, got {json.dumps(value)}.")


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise BadRequest(f"{name} must be a whole number, got {json.dumps(value)}.")
    if isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        result = int(value.strip())
    else:
        raise BadRequest(f"{name} must be a whole number, got {json.dumps(value)}.")
    if result < 0:
        raise BadRequest(f"{name} must not be negative, got {result}.")
    return result


def _group_ids(value: Any, name: str) -> list[int]:
    """A list of group ids; 0 entries mean "none" and are dropped."""
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    return [gid for gid in (_as_int(item, f"{name} item") for item in value) if gid != 0]


def normalise_mobile(raw: str, *, trim_zero: bool, country_code: str, only_if_missing: bool = True) -> str:
    """inwise-like: digits only; optionally drop leading zeros; put the country code in front.

    ``POST /contacts`` adds the code only if the number does not start with it (its documented
    "only if not exists" flag).  batchInsert documents no such flag, so the sandbox assumes the
    worst and adds it blindly (``only_if_missing=False``): a client sending ``972541111111``
    with ``country_code`` 972 gets ``972972541111111``, as it might from inwise.
    """
    digits = re.sub(r"\D", "", raw)
    if trim_zero and digits.startswith("0"):
        digits = digits.lstrip("0")
    if digits and country_code and not (only_if_missing and digits.startswith(country_code)):
        digits = country_code + digits
    return digits


def _mobile_ok(digits: str) -> bool:
    return MOBILE_MIN_DIGITS <= len(digits) <= MOBILE_MAX_DIGITS


def _keys_of(
    raw_email: str, raw_mobile: str, *, trim_zero: bool, country_code: str, only_if_missing: bool = True
) -> tuple[str | None, str | None]:
    """Validated (email, mobile) of a request; raises BadRequest as inwise would answer 400."""
    email: str | None = None
    mobile: str | None = None
    if raw_email:
        if not EMAIL_RE.match(raw_email):
            raise BadRequest(f"Invalid email address {raw_email}.")
        email = raw_email.lower()
    if raw_mobile:
        digits = normalise_mobile(raw_mobile, trim_zero=trim_zero, country_code=country_code,
                                  only_if_missing=only_if_missing)
        if not _mobile_ok(digits):
            raise BadRequest(f"Invalid mobile number {raw_mobile}.")
        mobile = digits
    if email is None and mobile is None:
        raise BadRequest(MSG_REQUIRED)
    return email, mobile


def _field_name(raw: Any) -> str:
    name = _as_text(raw, "fields name")
    match = FIELD_NAME_RE.match(name)
    if not match:
        raise BadRequest(f"Unknown personal field {json.dumps(name)}; use field1, field2, ...")
    return f"field{int(match.group(1))}"


def _fields_of(value: Any) -> dict[str, str]:
    """``[{"name": "field1", "content": "x"}]`` (or ``{"field1": "x"}``) -> {"field1": "x"}."""
    if value is None:
        return {}
    result: dict[str, str] = {}
    if isinstance(value, Mapping):
        for name, content in value.items():
            result[_field_name(name)] = _as_text(content, f"content of {name}")
        return result
    if not isinstance(value, list):
        raise BadRequest('fields must be a list of {"name": "field<N>", "content": "..."}.')
    for item in value:
        if not isinstance(item, Mapping) or "name" not in item:
            raise BadRequest('Each item of fields must be {"name": "field<N>", "content": "..."}.')
        name = _field_name(item["name"])
        result[name] = _as_text(item.get("content"), f"content of {name}")
    return result


@lru_cache(maxsize=4096)  # a few dozen names, asked for every contact of every feed page
def _field_sort_key(name: str) -> int:
    match = FIELD_NAME_RE.match(name)
    return int(match.group(1)) if match else 0


def public_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """A stored contact in the API's shape (a fresh copy)."""
    fields = contact["fields"]
    return {
        "id": contact["id"],
        "email": contact["email"],
        "mobile_number": contact["mobile_number"],
        "fields": [{"name": name, "content": fields[name]}
                   for name in (sorted(fields, key=_field_sort_key) if len(fields) > 1 else fields)],
        "created_date": contact["created_date"],
        "confirmation_status": contact["confirmation_status"],
        "groups": sorted(contact["groups"]),
        "external_id": contact["external_id"],
    }


_CONTACT_KEYS = {
    "id", "email", "mobile_number", "fields", "created_date",
    "confirmation_status", "groups", "external_id",
}


def stored_from_dict(data: Any) -> dict[str, Any]:
    """A seeded / persisted contact (API shape) -> the stored form.  Raises BadRequest."""
    if not isinstance(data, Mapping):
        raise BadRequest(f"A contact must be a JSON object, got {json.dumps(data)[:80]}.")
    unknown = sorted(set(data) - _CONTACT_KEYS)
    if unknown:
        raise BadRequest(
            f"Unknown contact key(s) {', '.join(unknown)}; known: {', '.join(sorted(_CONTACT_KEYS))}."
        )
    email, mobile = _keys_of(
        _as_text(data.get("email"), "email"),
        _as_text(data.get("mobile_number"), "mobile_number"),
        trim_zero=False,
        country_code="",
    )
    contact_id = data.get("id")
    status = data.get("confirmation_status")
    external = data.get("external_id")
    return {
        "id": _as_int(contact_id, "id") if contact_id not in (None, 0) else None,
        "email": email,
        "mobile_number": mobile,
        "fields": _fields_of(data.get("fields")),
        "created_date": _as_text(data.get("created_date"), "created_date") or _now_iso(),
        "confirmation_status": None if status is None else _as_text(status, "confirmation_status"),
        "groups": set(_group_ids(data.get("groups"), "groups")),
        "external_id": None if external is None else _as_text(external, "external_id"),
    }

# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------
class ContactStore:
    """The contacts, their indexes and the feed, behind one lock; optionally kept in a file."""

    def __init__(self, *, state_file: str | os.PathLike[str] | None = None, first_id: int = FIRST_ID) -> None:
        self._first_id = int(first_id)
        self._state_file = Path(state_file) if state_file is not None else None
        self._lock = threading.Lock()
        self._contacts: dict[int, dict[str, Any]] = {}
        self._by_email: dict[str, int] = {}
        self._by_mobile: dict[str, int] = {}
        self._feed: list[int] = []  # created ids not yet returned by GET /contacts, oldest first
        self._next_id = self._first_id
        self._pages_handed_out = 0
        self._last_page: dict[str, Any] | None = None
        if self._state_file is not None and self._state_file.exists():
            self._load_state(self._state_file)

    # ---------------------------------------------------------------- reading and seeding
    def add_contacts(self, contacts: Iterable[Any]) -> list[int]:
        """Add contacts that already exist (not in the feed); all or nothing, ValueError if invalid."""
        items = list(contacts)
        try:
            prepared = [stored_from_dict(item) for item in items]
        except BadRequest as exc:
            raise ValueError(exc.message) from None
        with self._lock:
            ids = self._insert_seeds_locked(prepared)
            self._persist_locked()
        return ids

    def contacts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [public_contact(self._contacts[cid]) for cid in sorted(self._contacts)]

    def feed_pending(self) -> int:
        with self._lock:
            return len(self._feed)

    def feed_status(self) -> dict[str, Any]:
        """``{"pending", "pages_handed_out", "last_page": {"contacts", "ids"} | None}``."""
        with self._lock:
            return {"pending": len(self._feed), "pages_handed_out": self._pages_handed_out,
                    "last_page": None if self._last_page is None else dict(self._last_page)}

    def reset(self) -> None:
        with self._lock:
            self._contacts.clear()
            self._by_email.clear()
            self._by_mobile.clear()
            self._feed.clear()
            self._next_id = self._first_id
            self._pages_handed_out = 0
            self._last_page = None
            self._persist_locked()

    # ---------------------------------------------------------------- state helpers (lock held)
    def _new_id_locked(self) -> int:
        contact_id = self._next_id
        self._next_id += 1
        return contact_id

    def _index_locked(self, contact: dict[str, Any]) -> None:
        if contact["email"]:
            self._by_email[contact["email"]] = contact["id"]
        if contact["mobile_number"]:
            self._by_mobile[contact["mobile_number"]] = contact["id"]

    def _insert_seeds_locked(self, prepared: list[dict[str, Any]]) -> list[int]:
        emails: set[str] = set()
        mobiles: set[str] = set()
        ids: set[int] = set()
        for contact in prepared:  # check everything before changing anything
            email, mobile, cid = contact["email"], contact["mobile_number"], contact["id"]
            if email and (email in self._by_email or email in emails):
                raise ValueError(f"The email {email} already belongs to another contact.")
            if mobile and (mobile in self._by_mobile or mobile in mobiles):
                raise ValueError(f"The mobile number {mobile} already belongs to another contact.")
            if cid is not None and (cid in self._contacts or cid in ids):
                raise ValueError(f"The contact ID #{cid} already exists.")
            if email:
                emails.add(email)
            if mobile:
                mobiles.add(mobile)
            if cid is not None:
                ids.add(cid)
        result = []
        for contact in prepared:
            if contact["id"] is None:
                while self._next_id in self._contacts or self._next_id in ids:
                    self._next_id += 1
                contact["id"] = self._new_id_locked()
            else:
                self._next_id = max(self._next_id, contact["id"] + 1)
            self._contacts[contact["id"]] = contact
            self._index_locked(contact)
            result.append(contact["id"])
        return result

    def _persist_locked(self) -> None:
        """Write the state file atomically, if there is one.

        Not durable (no fsync): a reader sees the old or the new file whole, which is all a demo
        needs, and it keeps thousands of small writes fast.
        """
        if self._state_file is None:
            return
        data = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "next_id": self._next_id,
            "feed_pending": list(self._feed),
            "contacts": [public_contact(self._contacts[cid]) for cid in sorted(self._contacts)],
        }
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self._state_file, json.dumps(data, ensure_ascii=False), durable=False)

    def _load_state(self, path: Path) -> None:
        def bad(why: str) -> SandboxError:
            return SandboxError(
                f"The sandbox state file {path} cannot be used: {why}. "
                "Delete it (or choose another state file) to start with an empty sandbox."
            )

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise bad(exc.strerror or str(exc)) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise bad(f"it is not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise bad("it is not a sandbox state file")
        if data.get("version") != STATE_VERSION:
            raise bad(f"unsupported version {data.get('version')!r}")
        contacts = data.get("contacts")
        feed = data.get("feed_pending")
        next_id = data.get("next_id")
        if not isinstance(contacts, list) or not isinstance(feed, list) or not isinstance(next_id, int):
            raise bad("contacts, feed_pending or next_id is missing")
        try:
            prepared = [stored_from_dict(item) for item in contacts]
            if any(c["id"] is None for c in prepared):
                raise ValueError("a contact has no id")
            with self._lock:
                self._insert_seeds_locked(prepared)
                unknown = [cid for cid in feed if cid not in self._contacts]
                if unknown:
                    raise ValueError(f"feed_pending lists unknown contact ids {unknown[:5]}")
                self._feed = [int(cid) for cid in feed]
                self._next_id = max(self._next_id, next_id)
        except (BadRequest, ValueError) as exc:
            raise bad(getattr(exc, "message", str(exc))) from None

    # ---------------------------------------------------------------- the API calls
    def take_feed_page(self) -> list[dict[str, Any]]:
        """The next page of the feed (newest first); the contacts leave the feed for good."""
        with self._lock:
            take = min(FEED_PAGE_SIZE, len(self._feed))
            ids = self._feed[len(self._feed) - take:]
            del self._feed[len(self._feed) - take:]
            page = [public_contact(self._contacts[cid]) for cid in reversed(ids)]
            self._pages_handed_out += 1
            self._last_page = {"contacts": len(page), "ids": [c["id"] for c in page]}
            if page:
                self._persist_locked()
        return page

    def upsert(self, payload: Any) -> dict[str, Any]:
        """POST /contacts: create or update one contact by inwise's rules."""
        if not isinstance(payload, dict):
            raise BadRequest("The request body must be a JSON object (one contact).")
        country = re.sub(r"\D", "", _as_text(payload.get("mobile_number_default_country_code"), "mobile_number_default_country_code"))
        add_country = _as_bool(
            payload.get("add_default_country_to_mobile_number_only_if_not_exists"),
            "add_default_country_to_mobile_number_only_if_not_exists",
        )
        email, mobile = _keys_of(
            _as_text(payload.get("email"), "email"),
            _as_text(payload.get("mobile_number"), "mobile_number"),
            trim_zero=_as_bool(payload.get("trim_mobile_number_leading_zero"), "trim_mobile_number_leading_zero"),
            country_code=country if add_country else "",
        )
        contact_id = _as_int(payload.get("id") or 0, "id")
        status = payload.get("confirmation_status")
        external = payload.get("external_id")
        change = {
            "fields": _fields_of(payload.get("fields")),
            "clear_fields": _as_bool(payload.get("clear_existing_fields"), "clear_existing_fields"),
            "add_groups": _group_ids(payload.get("add_to_groups_ids"), "add_to_groups_ids"),
            "remove_groups": _group_ids(payload.get("remove_from_groups_ids"), "remove_from_groups_ids"),
            "only_these_groups": _as_bool(payload.get("remove_from_all_other_groups"), "remove_from_all_other_groups"),
            "confirmation_status": None if status is None else _as_text(status, "confirmation_status"),
            "external_id": None if external is None else _as_text(external, "external_id"),
        }
        with self._lock:
            contact, created = self._upsert_locked(email, mobile, change, contact_id=contact_id)
            self._persist_locked()
            return {
                "id": contact["id"],
                "email": contact["email"],
                "mobile_number": contact["mobile_number"],
                "created": created,
            }

    def _upsert_locked(
        self, email: str | None, mobile: str | None, change: dict[str, Any], *, contact_id: int = 0
    ) -> tuple[dict[str, Any], bool]:
        """Create or update one contact by the inwise rules.  Raises BadRequest (422/400)."""
        email_owner = self._by_email.get(email) if email else None
        mobile_owner = self._by_mobile.get(mobile) if mobile else None
        if contact_id:
            target = self._contacts.get(contact_id)
            if target is None:
                raise BadRequest(f"Contact ID #{contact_id} does not exist.", 404)
            parts = []
            if email_owner is not None and email_owner != contact_id:
                parts.append(MSG_CONFLICT_EMAIL.format(id=email_owner))
            if mobile_owner is not None and mobile_owner != contact_id:
                parts.append(MSG_CONFLICT_MOBILE.format(id=mobile_owner))
            if parts:
                raise BadRequest("".join(parts), 422)
            # Addressed by id: the given email/mobile replace the stored ones.
            for key, value, index in (("email", email, self._by_email), ("mobile_number", mobile, self._by_mobile)):
                if value and target[key] != value:
                    if target[key]:
                        index.pop(target[key], None)
                    target[key] = value
                    index[value] = contact_id
            self._apply_change(target, change)
            return target, False
        if email_owner is not None and mobile_owner is not None and email_owner != mobile_owner:
            raise BadRequest(
                MSG_CONFLICT_EMAIL.format(id=email_owner) + MSG_CONFLICT_MOBILE.format(id=mobile_owner), 422
            )
        owner = email_owner if email_owner is not None else mobile_owner
        if owner is not None:
            target = self._contacts[owner]
            if email and not target["email"]:
                target["email"] = email
                self._by_email[email] = owner
            if mobile and not target["mobile_number"]:
                target["mobile_number"] = mobile
                self._by_mobile[mobile] = owner
            self._apply_change(target, change)
            return target, False
        new_id = self._new_id_locked()
        while new_id in self._contacts:  # only possible after odd seeding; stay safe
            new_id = self._new_id_locked()
        contact: dict[str, Any] = {
            "id": new_id,
            "email": email,
            "mobile_number": mobile,
            "fields": {},
            "created_date": _now_iso(),
            "confirmation_status": None,
            "groups": set(),
            "external_id": None,
        }
        self._apply_change(contact, change)
        self._contacts[new_id] = contact
        self._index_locked(contact)
        self._feed.append(new_id)
        return contact, True

    @staticmethod
    def _apply_change(contact: dict[str, Any], change: dict[str, Any]) -> None:
        """One create-or-update, in the API page's order: fields, groups (remove_from_all_other_groups
        first, then add_to_groups_ids, then remove_from_groups_ids), confirmation status.  A contact
        left in no group stays a contact of the account (wire.ASSUMPTIONS: "a contact in no group")."""
        if change.get("clear_fields"):
            contact["fields"] = dict(change.get("fields", {}))
        else:
            contact["fields"].update(change.get("fields", {}))
        if change.get("only_these_groups"):
            contact["groups"] = set()
        contact["groups"].update(change.get("add_groups", ()))
        contact["groups"].difference_update(change.get("remove_groups", ()))
        if change.get("confirmation_status") is not None:
            contact["confirmation_status"] = change["confirmation_status"]
        if change.get("external_id") is not None:
            contact["external_id"] = change["external_id"]

    def batch_insert(self, payload: Any) -> dict[str, int]:
        """POST /contacts/batchInsert: import the CSV; counts of what happened."""
        if not isinstance(payload, dict):
            raise BadRequest("The request body must be a JSON object with csv_file and fields_mapping.")
        csv_text = payload.get("csv_file")
        if not isinstance(csv_text, str) or not csv_text.strip():
            raise BadRequest("csv_file is required: the CSV text itself, header row first.")
        mapping = payload.get("fields_mapping")
        if not isinstance(mapping, list) or not mapping:
            raise BadRequest('fields_mapping is required: a list of {"field_name", "file_column_name"}.')
        try:
            rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"), newline="")))
        except csv.Error as exc:
            raise BadRequest(f"csv_file is not valid CSV: {exc}.") from None
        if not rows or not any(cell.strip() for cell in rows[0]):
            raise BadRequest("csv_file has no header row.")
        header = [cell.strip() for cell in rows[0]]
        columns: dict[str, int] = {}
        for index, name in enumerate(header):
            columns.setdefault(name, index)
        email_col: int | None = None
        mobile_col: int | None = None
        field_cols: list[tuple[str, int]] = []
        for item in mapping:
            if not isinstance(item, dict) or not isinstance(item.get("field_name"), str) \
                    or not isinstance(item.get("file_column_name"), str):
                raise BadRequest(
                    'Each item of fields_mapping must be {"field_name": "...", "file_column_name": "..."}.'
                )
            field_name = item["field_name"].strip()
            column = item["file_column_name"].strip()
            if column not in columns:
                raise BadRequest(f"fields_mapping names the column {json.dumps(column, ensure_ascii=False)}, "
                                  "which is not in the CSV header.")
            if field_name == "[Email]":
                email_col = columns[column]
            elif field_name == "[MobileNumber]":
                mobile_col = columns[column]
            elif field_name.isdigit() and int(field_name) > 0:
                field_cols.append((f"field{int(field_name)}", columns[column]))
            else:
                raise BadRequest(f"Unknown field_name {json.dumps(field_name, ensure_ascii=False)} in "
                                  'fields_mapping; use "[Email]", "[MobileNumber]" or a field number like "1".')
        if email_col is None and mobile_col is None:
            raise BadRequest("fields_mapping must map [Email] or [MobileNumber].")
        group_raw = payload.get("group_id")
        group = _as_int(group_raw, "group_id") if group_raw not in (None, "") else 0
        update_existing = _as_bool(payload.get("updateExistingContacts"), "updateExistingContacts")
        country = re.sub(r"\D", "", _as_text(payload.get("country_code"), "country_code"))
        trim = _as_bool(payload.get("trim_leading_zero"), "trim_leading_zero")
        # not on the API page: taken like POST /contacts' key (wire.ASSUMPTIONS, "batchInsert and
        # the confirmation status"); without it a batch leaves the status as it was
        status_raw = payload.get("confirmation_status")
        status = None if status_raw in (None, "") else _as_text(status_raw, "confirmation_status")

        def cell(row: list[str], index: int | None) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        result = {"total": 0, "created": 0, "updated": 0, "failed": 0, "skipped": 0}
        with self._lock:
            for row in rows[1:]:
                if not any(value.strip() for value in row):
                    continue  # blank line
                result["total"] += 1
                try:
                    email, mobile = _keys_of(cell(row, email_col), cell(row, mobile_col),
                                             trim_zero=trim, country_code=country, only_if_missing=False)
                except BadRequest:
                    result["failed"] += 1
                    continue
                email_owner = self._by_email.get(email) if email else None
                mobile_owner = self._by_mobile.get(mobile) if mobile else None
                if email_owner is not None and mobile_owner is not None and email_owner != mobile_owner:
                    result["failed"] += 1
                    continue
                if (email_owner is not None or mobile_owner is not None) and not update_existing:
                    result["skipped"] += 1
                    continue
                change = {
                    "fields": {name: cell(row, index) for name, index in field_cols if cell(row, index)},
                    "add_groups": [group] if group else [],
                    "confirmation_status": status,
                }
                _, created = self._upsert_locked(email, mobile, change)
                result["created" if created else "updated"] += 1
            self._persist_locked()
        return result
