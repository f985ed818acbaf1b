"""inwise's wire format: request bodies, the batch CSV, and the parsers of inwise's answers.

Pure functions, no I/O: the client (``client.py``) sends what is built here and hands the
answers' text back here to be read.  The parsers take the raw body text, so a recording of
real answers (``probe.py`` writes them) can be fed to them directly in tests.

What inwise documents is used as documented.  What it does not document is guessed, and every
guess is listed in :data:`ASSUMPTIONS` below with what would settle it; the constants that carry
a guess are defined right after that list.  A correction is a change in this file only.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Contact, SendOptions

# ================================================================================================
# Documented facts (the public API page)
# ================================================================================================

#: The only authentication: this header with the account's REST API key.
API_KEY_HEADER = "X-API-Key"
#: GET /contacts returns at most this many contacts per call; a shorter page means "drained".
FEED_PAGE_SIZE = 1000
#: The 422 conflict message as documented (no space after the first period).
CONFLICT_EXAMPLE = ("The email exists for contact ID #439130785."
                    "The mobile number exists for contact ID #439134049.")


# ================================================================================================
# ASSUMPTIONS about what inwise does not document, each with what would settle it
# ================================================================================================


@dataclass(frozen=True)
class Assumption:
    """One guess about inwise's API: what we assume (and do), and what would settle it."""

    name: str
    assumed: str
    settle: str


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "contact id in the answer of POST /contacts",
        "A 200 answer carries the id as {\"id\": <int>} (also tolerated: Id, ID, contact_id, "
        "contactId, a bare number).",
        "A recorded 200 answer of POST /contacts.",
    ),
    Assumption(
        "answer of POST /contacts/batchInsert",
        "Any 2xx means the chunk was accepted; no per-row result. Counters such as "
        "{\"failed\": n} are read if present.",
        "A recorded answer of a 2-row batchInsert.",
    ),
    Assumption(
        "shape of a GET /contacts answer",
        "A JSON list of {\"id\", \"email\", \"mobile_number\", \"fields\": [{\"name\", "
        "\"content\"}], \"created_date\"}; a dict holding the list under "
        "contacts/data/items/results is tolerated.",
        "A recorded feed page.",
    ),
    Assumption(
        "a refused API key",
        "401 or 403 refuses the key and stops the run.",
        "The recorded answer to a request with a wrong key.",
    ),
    Assumption(
        "error messages",
        "An error body is JSON with the text under message/Message/error/... (ASP.NET style "
        "ModelState details are appended), or plain text.",
        "Any recorded 4xx answer.",
    ),
    Assumption(
        "retryable answers",
        "429 (maybe with Retry-After) and 500/502/503/504 are temporary and retried; every other "
        "4xx is final for the row.",
        "inwise's statement on rate limits; an answer recorded under load.",
    ),
    Assumption(
        "created versus updated",
        "A row created a contact exactly when its id later shows up in GET /contacts (the feed "
        "lists created contacts only); otherwise it updated one.",
        "A create and an update followed by two feed reads, recorded.",
    ),
)

#: Keys under which the 200 answer of POST /contacts may carry the contact's id.
CONTACT_ID_KEYS: tuple[str, ...] = ("id", "Id", "ID", "contact_id", "contactId")

#: Keys of a JSON error body that may hold inwise's human-readable message.
MESSAGE_KEYS: tuple[str, ...] = ("message", "Message", "error", "Error", "error_description",
                                 "detail", "title")

#: Keys under which a dict answer of GET /contacts may hold the list of contacts.
FEED_LIST_KEYS: tuple[str, ...] = ("contacts", "Contacts", "data", "Data", "items", "Items",
                                   "results", "Results")

#: The 422 message, tolerantly: any spacing, either order, only one of the two,
#: "mobile"/"mobile number"/"phone".
CONFLICT_RE: re.Pattern[str] = re.compile(
    r"\b(?P<what>e-?mail(?:\s+address)?|mobile(?:[\s_]*(?:phone\s*)?number)?|phone(?:\s*number)?)"
    r"\s+(?:already\s+)?exists?\s+(?:for|in|on)\s+(?:the\s+)?contact\s*(?:ID)?\s*[#:]?\s*(?P<id>\d+)",
    re.IGNORECASE,
)

#: Column names of the CSV sent to batchInsert (inwise maps them via ``fields_mapping``).
BATCH_EMAIL_COLUMN = "Email"
BATCH_MOBILE_COLUMN = "Mobile"
BATCH_FIELD_COLUMN = "Field{n}"  # personal field N -> column "Field<N>"


# ================================================================================================
# Request bodies
# ================================================================================================


def is_domestic(contact: Contact, options: SendOptions) -> bool:
    """True when the local-number flags are safe for this contact's mobile.

    That is: no mobile, a number already starting with the default calling code, or a local
    number with its trunk zero (``0541111111``, when a caller sends digits as typed).
    """
    code = options.default_country_code
    m = contact.mobile
    return m is None or m.startswith("0") or (bool(code) and m.startswith(code))


def contact_body(contact: Contact, options: SendOptions) -> dict[str, Any]:
    """The JSON body of ``POST /contacts`` for one contact (documented fields only).

    ``email``/``mobile_number`` are omitted when absent.  ``contact.mobile`` is already
    international digits.  The three local-number flags are sent only with a number of the
    default country: inwise cannot tell that ``15046218927`` already carries a (US) country
    code, so "add the default country code if not there" would turn it into 97215046218927.
    """
    body: dict[str, Any] = {}
    if contact.email is not None:
        body["email"] = contact.email
    if contact.mobile is not None:
        body["mobile_number"] = contact.mobile
        if is_domestic(contact, options):
            body["trim_mobile_number_leading_zero"] = bool(options.trim_leading_zero)
            body["add_default_country_to_mobile_number_only_if_not_exists"] = True
            body["mobile_number_default_country_code"] = options.default_country_code
    body["fields"] = [{"name": f"field{number}", "content": text} for number, text in contact.fields]
    if options.confirmation_status:
        body["confirmation_status"] = options.confirmation_status
    if options.groups:
        body["add_to_groups_ids"] = [int(g) for g in options.groups]
    if contact.external_id is not None:
        body["external_id"] = contact.external_id
    if options.clear_existing_fields:
        body["clear_existing_fields"] = True
    return body


def batch_fields_mapping(field_numbers: Sequence[int]) -> list[dict[str, str]]:
    """``fields_mapping`` of batchInsert for the columns written by :func:`build_batch_csv`."""
    mapping = [
        {"field_name": "[Email]", "file_column_name": BATCH_EMAIL_COLUMN},
        {"field_name": "[MobileNumber]", "file_column_name": BATCH_MOBILE_COLUMN},
    ]
    mapping += [{"field_name": str(n), "file_column_name": BATCH_FIELD_COLUMN.format(n=n)}
                for n in _unique(field_numbers)]
    return mapping


def build_batch_csv(contacts: Sequence[Contact], field_numbers: Sequence[int]) -> str:
    """The ``csv_file`` text of batchInsert: header ``Email,Mobile,Field<N>...``, one row a contact.

    Quoting of commas, quotes, newlines is the csv module's (minimal quoting, ``"`` doubled);
    lines end with ``\\n``.  A missing email/mobile/field is an empty cell.  Raises
    ``ValueError`` if a contact carries a field number not in ``field_numbers`` (that would
    silently drop data).
    """
    numbers = _unique(field_numbers)
    wanted = set(numbers)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([BATCH_EMAIL_COLUMN, BATCH_MOBILE_COLUMN]
                    + [BATCH_FIELD_COLUMN.format(n=n) for n in numbers])
    for contact in contacts:
        values = contact.field_dict()
        extra = set(values) - wanted
        if extra:
            raise ValueError(f"contact {contact.email or contact.mobile!r} has personal field(s) "
                             f"{sorted(extra)} that are not in field_numbers {numbers}")
        writer.writerow([contact.email or "", contact.mobile or ""]
                        + [values.get(n, "") for n in numbers])
    return out.getvalue()


def batch_body(contacts: Sequence[Contact], options: SendOptions, *, field_numbers: Sequence[int],
               group_id: int | None) -> dict[str, Any]:
    """The JSON body of ``POST /contacts/batchInsert`` (documented fields only)."""
    body: dict[str, Any] = {
        "csv_file": build_batch_csv(contacts, field_numbers),
        "fields_mapping": batch_fields_mapping(field_numbers),
        "updateExistingContacts": bool(options.update_existing),
    }
    # As in contact_body: the country code and trim flag go only with default-country numbers
    # (callers send foreign numbers in a batch of their own).
    if all(is_domestic(c, options) for c in contacts):
        body["country_code"] = options.default_country_code
        body["trim_leading_zero"] = bool(options.trim_leading_zero)
    if group_id is not None:
        body["group_id"] = str(group_id)  # a string in the documentation's example
    return body


def _unique(numbers: Iterable[int]) -> list[int]:
    """``numbers`` as ints, first occurrence order, duplicates dropped."""
    seen: dict[int, None] = {}
    for n in numbers:
        seen.setdefault(int(n), None)
    return list(seen)


# ================================================================================================
# Answers
# ================================================================================================


def parse_json(text: str) -> Any:
    """The JSON value of an answer's body, or None when it is empty or not JSON."""
    try:
        return json.loads(text) if text and text.strip() else None
    except ValueError:
        return None


def parse_conflict(message: str) -> dict[str, int]:
    """The contact IDs named in an inwise 422 message: ``{"email": id, "mobile": id}``.

    >>> parse_conflict(CONFLICT_EXAMPLE)
    {'email': 439130785, 'mobile': 439134049}

    Keys present only for what the message names; ``{}`` when it names no ID.  If the same kind
    is named twice, the first ID wins.
    """
    found: dict[str, int] = {}
    for match in CONFLICT_RE.finditer(message or ""):
        kind = "email" if match.group("what").lower().replace("-", "").startswith("email") else "mobile"
        found.setdefault(kind, int(match.group("id")))
    return found


def parse_message(text: str) -> str:
    """inwise's human-readable message in an answer body (whitespace collapsed, not cut).

    JSON ``message``/``Message``/``error``... (with ASP.NET ``ModelState`` details appended), a
    JSON string, or else the text itself.
    """
    data = parse_json(text)
    message: str | None = None
    if isinstance(data, str):
        message = data
    elif isinstance(data, dict):
        for key in MESSAGE_KEYS:
            value = data.get(key)
            if value:
                message = value if isinstance(value, str) else str(value)
                break
        details = data.get("ModelState") or data.get("errors")
        if isinstance(details, dict) and details:
            flat = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                             for k, v in details.items())
            message = f"{message} ({flat})" if message else flat
    if message is None:
        message = text or ""
    return " ".join(message.split())


def parse_contact_id(text: str) -> int | None:
    """The contact id in a 2xx answer of POST /contacts, or None (see :data:`CONTACT_ID_KEYS`)."""
    data = parse_json(text)
    value: Any = None
    if isinstance(data, dict):
        for key in CONTACT_ID_KEYS:
            if key in data:
                value = data[key]
                break
    elif isinstance(data, (int, str)) and not isinstance(data, bool):
        value = data
    return _positive_int(value)


def parse_feed_page(text: str) -> list[Any] | None:
    """The raw items of a GET /contacts answer, or None if it is not a list of contacts."""
    data = parse_json(text)
    if isinstance(data, dict):
        for key in FEED_LIST_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if isinstance(data, list):
        return data
    return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None
