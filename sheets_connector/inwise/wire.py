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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Literal

import orjson
import phonenumbers

from ..model import Contact, SendOptions
from ..phoneshape import by_shape

# ================================================================================================
# Documented facts (the public API page)
# ================================================================================================

#: The REST API's address (the paths below are relative to it).
API_ADDRESS = "https://api.inwise.com/rest/v1"
#: The only authentication: this header with the account's REST API key.
API_KEY_HEADER = "X-API-Key"
#: GET /contacts returns at most this many contacts per call; a shorter page means "drained".
FEED_PAGE_SIZE = 1000
#: The 422 conflict message as documented (no space after the first period).
CONFLICT_EXAMPLE = ("The email exists for contact ID #439130785."
                    "The mobile number exists for contact ID #439134049.")
#: inwise's own texts about the key, as recorded by a public project (without their status
#: codes), and the guide's 401 text for an account whose REST access is not enabled.
KEY_INVALID_TEXT = "Parameter 'X-API-Key' is invalid."
KEY_MISSING_TEXT = "X-API-Key was missing"
REST_NOT_ENABLED_TEXT = "You are not authorized to use rest API"


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
        "A 200 answer carries the id as {\"id\": <int>} (also read: Id, ID, contact_id, contactId, a "
        "bare number). A 200 without a readable id still means inwise applied the change: the row "
        "says it was sent and that inwise gave no id.",
        "A recorded 200 answer of POST /contacts (sheets-connector probe, step 'create').",
    ),
    Assumption(
        "answer of POST /contacts/batchInsert",
        "Any 2xx means the chunk was accepted; no per-row result. Counters such as "
        "{\"failed\": n} are read if present.",
        "A recorded answer of a 2-row batchInsert (probe, step 'batch').",
    ),
    Assumption(
        "batchInsert and the country code",
        "batchInsert documents no 'only if not present' flag, so its country_code may be prefixed "
        "blindly: numbers of the default country are sent in their local form (0541111111) with "
        "country_code and trim_leading_zero, as in the documented example; other numbers go in a "
        "call of their own, in international digits, without them.",
        "The mobile number inwise stored for the probe's batch contact (probe, step 'feed').",
    ),
    Assumption(
        "shape of a GET /contacts answer",
        "A JSON list; a dict holding the list under contacts/data/items/results is read too.",
        "A recorded feed page (probe, step 'feed').",
    ),
    Assumption(
        "shape of a GET /contacts item",
        "{\"id\", \"email\", \"mobile_number\", \"fields\": [{\"name\", \"content\"}], "
        "\"created_date\"}. Also read: fields as a dict or as top-level fieldN keys, mobiles with "
        "dashes or a plus, created dates as ISO, MM/DD/YYYY HH:MM:SS (inwise's webhooks use both) "
        "or /Date(ms)/. An item without an id is kept and reported, never dropped.",
        "A recorded feed page (probe, step 'feed').",
    ),
    Assumption(
        "a refused API key",
        "401 and 403 refuse the key; so does any other 4xx whose message names the API key "
        f"({KEY_INVALID_TEXT!r}, {KEY_MISSING_TEXT!r}): the run stops. {REST_NOT_ENABLED_TEXT!r} "
        "means the account's REST access is not enabled (inwise support turns it on).",
        "The recorded answer to a request with a wrong key (probe, step 'wrong key').",
    ),
    Assumption(
        "error messages",
        "An error body is JSON with the text under message/Message/error/... (ASP.NET style "
        "ModelState details are appended), or plain text.",
        "Any recorded 4xx answer (probe, steps 'wrong key' and 'conflict').",
    ),
    Assumption(
        "retryable answers",
        "429 (maybe with Retry-After) and 500/502/503/504 are temporary and retried; every other "
        "4xx is final for the row.",
        "inwise's word on its rate limits; an answer recorded under load.",
    ),
    Assumption(
        "a wrong API address",
        "404, 405 or 413 as the first answers to POST /contacts cannot come from a row (no contact "
        "id is ever sent): after the first few the address is taken to be wrong and the run stops. "
        "For batchInsert and GET /contacts the first such answer stops it (413 to a batch means "
        "the batch is too large).",
        "A recorded answer of each call at the right address (probe), showing none of these.",
    ),
    Assumption(
        "confirmation statuses other than confirmed",
        "The API page shows only \"confirmed\". A row with consent (columns.consent) is sent as "
        "confirmed (or columns.consent.status). A row without consent is by default not sent at all, "
        "which is harmless whatever inwise accepts; only when the mapping names another status "
        "(columns.consent.without_consent, upsert mode only) is that word sent, and a refusal shows "
        "as that row's error.",
        "The probe's 'other status' step (POST /contacts with confirmation_status \"unconfirmed\"): "
        "accepted, or refused with the values inwise takes.",
    ),
    Assumption(
        "batchInsert and the confirmation status",
        "batchInsert documents no confirmation_status. With a consent column, batch mode sends POST "
        "/contacts' key in the batch body (each call's rows share one status). If inwise ignores it, "
        "the contacts get its status for imports; batch mode never sends a row without consent (the "
        "mapping refuses without_consent there), so no such row can arrive as confirmed.",
        "The status of the probe's batch contacts in the feed (probe, steps 'batch' and 'feed').",
    ),
    Assumption(
        "a contact in no group",
        "What inwise does with a contact removed from every group is not documented (it might delete "
        "it). The connector never asks for that: groups mode 'exactly' removes a contact only from "
        "the groups of the mapping's groups table, remove_from_all_other_groups is sent only with mode "
        "'exactly_all', and in both modes an empty groups cell makes the row invalid instead of "
        "taking the contact out of its groups (NO_GROUP_ALLOWED).",
        "The probe's 'no groups' step (remove_from_all_other_groups with no group) and the "
        "'after no groups' update: the same id back means the contact stayed.",
    ),
    Assumption(
        "an answer that is not inwise's",
        "inwise answers JSON. A 2xx answer that is an HTML page (a maintenance or login page) or JSON "
        "cut short comes from something else at the address (or never arrived whole): the run stops at "
        "the first one and those rows are sent again by the next run. An empty body or a short plain "
        "text (\"OK\") is still taken as inwise's acknowledgement.",
        "Recorded answers of each call (probe): all JSON.",
    ),
    Assumption(
        "created versus updated",
        "A row created a contact exactly when its id later shows up in GET /contacts (the feed "
        "lists created contacts only); otherwise it updated one.",
        "The probe's create and update steps followed by its two feed reads.",
    ),
    Assumption(
        "contact ids grow",
        "inwise numbers contacts in the order it creates them (439130001, then 439130785: an "
        "ascending counter). A run uses it to tell that another state store reads the same "
        "account's feed: a contact it sent whose id is above every id its store ever read from the "
        "feed was created after that read, so the feed must give it now; if it does not, someone "
        "else read it. If ids were not ascending, that warning could be missed or shown wrongly "
        "(no row, tab or contact is affected by it).",
        "Two contacts created one after the other (probe's create step, twice): the second id is higher.",
    ),
)

#: May a row's groups cell (groups mode exactly / exactly_all) take a contact out of every group?
NO_GROUP_ALLOWED = False

#: Keys under which the 200 answer of POST /contacts may carry the contact's id.
CONTACT_ID_KEYS: tuple[str, ...] = ("id", "Id", "ID", "contact_id", "contactId")

#: Keys of a JSON error body that may hold inwise's human-readable message.
MESSAGE_KEYS: tuple[str, ...] = ("message", "Message", "error", "Error", "error_description",
                                 "detail", "title")

#: Keys under which a dict answer of GET /contacts may hold the list of contacts.
FEED_LIST_KEYS: tuple[str, ...] = ("contacts", "Contacts", "data", "Data", "items", "Items",
                                   "results", "Results")

#: Keys of a feed item, by what they hold (the first present wins).
FEED_EMAIL_KEYS: tuple[str, ...] = ("email", "Email", "EMAIL", "email_address", "emailAddress", "EmailAddress")
FEED_MOBILE_KEYS: tuple[str, ...] = ("mobile_number", "mobileNumber", "MobileNumber", "mobile", "Mobile",
                                     "mobile_phone", "MobilePhone")
FEED_CREATED_KEYS: tuple[str, ...] = ("created_date", "createdDate", "CreatedDate", "created", "Created",
                                      "create_date", "creation_date")
FEED_FIELDS_KEYS: tuple[str, ...] = ("fields", "Fields", "personal_fields", "personalFields")
#: The keys of a feed item in the shape inwise documents (and the sandbox sends).  Each is the
#: first of its kind above, so an item with no other key is read by :func:`feed_contact` key by
#: key, without looking for other spellings (what ``sync/feedrows.py`` relies on).
FEED_PLAIN_KEYS: frozenset[str] = frozenset({"id", "email", "mobile_number", "fields", "created_date",
                                             "confirmation_status", "groups", "external_id"})
#: Created dates that are not ISO: month first, as inwise's webhooks send them (day first only
#: when the first number cannot be a month).
FEED_DATE_FORMATS: tuple[str, ...] = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
                                      "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")

#: Statuses that, as the first answers, say the API address is wrong rather than a row.
ADDRESS_STATUSES: frozenset[int] = frozenset({404, 405, 413})
#: How many such answers to POST /contacts stop the run.
ADDRESS_SUSPECT_ANSWERS = 3

#: A 4xx message that names the API key (any spelling of "API key", "X-API-Key").
KEY_MESSAGE_RE: re.Pattern[str] = re.compile(r"api[\s_-]*key", re.IGNORECASE)
#: A 4xx message saying the account may not use the REST API.
REST_NOT_ENABLED_RE: re.Pattern[str] = re.compile(r"not\s+authori[sz]ed\s+to\s+use\s+(?:the\s+)?rest\s*api",
                                                  re.IGNORECASE)

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


@lru_cache(maxsize=1 << 17)  # asked up to three times per row (split, body, upsert): once per number
def local_mobile(mobile: str, calling_code: str) -> str | None:
    """The number as dialled inside its country (``0541111111``), or None when that is not safe.

    Safe means inwise gets the international number back by trimming a leading zero and putting
    ``calling_code`` in front: the number is of that country, its national form is the national
    number with a trunk ``0`` (Israel, most of Europe) or nothing (North America) in front, and
    the national number itself does not start with 0.  A number already starting with 0 is
    taken as local as it is.  phonenumbers is asked once per number shape (phoneshape.py).
    """
    if mobile.startswith("0"):
        return mobile
    if not calling_code or not mobile.startswith(calling_code):
        return None
    return _local_for(calling_code)(mobile)


def _local(mobile: str, calling_code: str) -> str | None:
    try:
        number = phonenumbers.parse("+" + mobile)
    except phonenumbers.NumberParseException:
        return None
    national_number = phonenumbers.national_significant_number(number)
    if not national_number or national_number.startswith("0") or calling_code + national_number != mobile:
        return None
    national = re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return national if national in (national_number, "0" + national_number) else None


@lru_cache(maxsize=32)
def _local_for(calling_code: str) -> Callable[[str], str | None]:
    return by_shape(lambda mobile: _local(mobile, calling_code))


def is_domestic(contact: Contact, options: SendOptions) -> bool:
    """True when the local-number flags are safe for this contact's mobile.

    That is: no mobile, or a number of the default country that :func:`local_mobile` can write
    in its local form.  ``POST /contacts`` sends such numbers with the three local-number flags;
    batchInsert sends them in their local form with ``country_code`` (callers send the others
    in a batch of their own).
    """
    m = contact.mobile
    return m is None or local_mobile(m, options.default_country_code) is not None


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
    status = contact.confirmation_status or options.confirmation_status
    if status:
        body["confirmation_status"] = status
    groups = contact_groups(contact, options)
    if groups:
        body["add_to_groups_ids"] = list(groups)
    if contact.remove_groups:
        body["remove_from_groups_ids"] = [int(g) for g in contact.remove_groups if g not in groups]
    if contact.only_these_groups:
        body["remove_from_all_other_groups"] = True
    if contact.external_id is not None:
        body["external_id"] = contact.external_id
    if options.clear_existing_fields:
        body["clear_existing_fields"] = True
    return body


def contact_groups(contact: Contact, options: SendOptions) -> tuple[int, ...]:
    """The groups a contact is added to: the mapping's (every row) and the row's own, in order."""
    return _groups(tuple(options.groups), tuple(contact.groups))


@lru_cache(maxsize=1024)  # asked for every row; a sheet has a handful of group sets
def _groups(mapping: tuple[int, ...], own: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(dict.fromkeys([int(g) for g in mapping] + [int(g) for g in own]))


def batch_fields_mapping(field_numbers: Sequence[int]) -> list[dict[str, str]]:
    """``fields_mapping`` of batchInsert for the columns written by :func:`build_batch_csv`."""
    mapping = [
        {"field_name": "[Email]", "file_column_name": BATCH_EMAIL_COLUMN},
        {"field_name": "[MobileNumber]", "file_column_name": BATCH_MOBILE_COLUMN},
    ]
    mapping += [{"field_name": str(n), "file_column_name": BATCH_FIELD_COLUMN.format(n=n)}
                for n in _unique(field_numbers)]
    return mapping


def build_batch_csv(contacts: Sequence[Contact], field_numbers: Sequence[int],
                    mobile: Callable[[str], str | None] | None = None) -> str:
    """The ``csv_file`` text of batchInsert: header ``Email,Mobile,Field<N>...``, one row a contact.

    Quoting of commas, quotes, newlines is the csv module's (minimal quoting, ``"`` doubled);
    lines end with ``\\n``.  A missing email/mobile/field is an empty cell.  ``mobile`` rewrites
    each mobile (its local form, see :func:`batch_body`).  Raises ``ValueError`` if a contact
    carries a field number not in ``field_numbers`` (that would silently drop data).
    """
    numbers = _unique(field_numbers)
    wanted = set(numbers)
    every = tuple(numbers)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([BATCH_EMAIL_COLUMN, BATCH_MOBILE_COLUMN]
                    + [BATCH_FIELD_COLUMN.format(n=n) for n in numbers])
    rows = []
    for contact in contacts:
        phone = contact.mobile
        if phone is not None and mobile is not None:
            phone = mobile(phone)
        fields = contact.fields
        if tuple(n for n, _ in fields) == every:  # every field filled, in order: the common row
            values = [text for _, text in fields]
        else:
            given = contact.field_dict()
            extra = set(given) - wanted
            if extra:
                raise ValueError(f"contact {contact.email or contact.mobile!r} has personal field(s) "
                                 f"{sorted(extra)} that are not in field_numbers {numbers}")
            values = [given.get(n, "") for n in numbers]
        rows.append([contact.email or "", phone or "", *values])
    writer.writerows(rows)
    return out.getvalue()


def batch_body(contacts: Sequence[Contact], options: SendOptions, *, field_numbers: Sequence[int],
               group_id: int | None, confirmation_status: str | None = None,
               domestic: bool | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /contacts/batchInsert`` (documented fields only).

    When every contact is domestic (:func:`is_domestic`), mobiles are written in their local form
    and sent with ``country_code`` and ``trim_leading_zero: true``, as the documented example
    does: batchInsert has no "only if not present" flag, so an international number sent with
    ``country_code`` could be stored with the code twice.  ``trim_leading_zero`` is always true
    here: :func:`local_mobile` writes a leading zero only when it is a trunk prefix.  Otherwise
    (foreign numbers) mobiles go as international digits, without the two keys.  ``domestic``:
    whether every contact is, when the caller knows it already (``sync.send.batch_parts``).
    ``confirmation_status`` is POST /contacts' key, sent only when a consent column sets it (an
    assumption, see :data:`ASSUMPTIONS`); every contact of the call gets the same one.
    """
    code = options.default_country_code
    if domestic is None:
        domestic = all(is_domestic(c, options) for c in contacts)
    body: dict[str, Any] = {
        "csv_file": build_batch_csv(contacts, field_numbers,
                                    (lambda m: local_mobile(m, code)) if domestic else None),
        "fields_mapping": batch_fields_mapping(field_numbers),
        "updateExistingContacts": bool(options.update_existing),
    }
    if domestic:
        body["country_code"] = code
        body["trim_leading_zero"] = True
    if group_id is not None:
        body["group_id"] = str(group_id)  # a string in the documentation's example
    if confirmation_status:
        body["confirmation_status"] = confirmation_status  # undocumented here: see ASSUMPTIONS
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


def foreign_answer(text: str, content_type: str = "") -> str | None:
    """Plain words for a 2xx answer that cannot be inwise's, else None: an HTML page (a maintenance
    or login page, a web app at the wrong address) or JSON cut short or broken.  An empty body or a
    short plain text ("OK") may be how inwise acknowledges (``tests/recordings/odd-shapes.json``):
    those are not refused.
    """
    body = (text or "").strip()
    if not body or parse_json(body) is not None:
        return None
    if "html" in content_type.lower() or body[:1] == "<":
        title = re.search(r"<title[^>]*>(.*?)</title>", body[:4000], re.IGNORECASE | re.DOTALL)
        shown = " ".join(title.group(1).split())[:80] if title else ""
        return "a web page (HTML" + (f", titled {shown!r}" if shown else "") + ")"
    if body[:1] in "{[":
        return "JSON that was cut short or broken"
    return None


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
    return _feed_items(parse_json(text))


def _feed_items(data: Any) -> list[Any] | None:
    if isinstance(data, dict):
        for key in FEED_LIST_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if isinstance(data, list):
        return data
    return None


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19  # 19 digits in a row: maybe an integer beyond 64 bits, which orjson reads as a float


def parse_feed_answer(raw: bytes) -> list[Any] | None:
    """The raw items of a GET /contacts answer as received (bytes), or None if it holds no list:
    what a store that keeps raw answers parses, now and again in later runs.

    orjson reads the bytes as they are, twice as fast as json (100,000 contacts are ~45 MB of
    answers); what it would read otherwise than json (an integer beyond 64 bits: any run of 19
    digits sends the answer to json) or refuses (a BOM, NaN, lone surrogates, an empty body) is
    read by json, so the items, or None, are the same as json's (tests/test_feed_rows.py)."""
    if raw.translate(_DIGITS_AS_ZERO).find(_LONG_NUMBER) < 0:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            return _feed_items(data)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return parse_feed_page(text)


Refusal = Literal["key", "rest"]


def key_refusal(status: int, message: str) -> Refusal | None:
    """Whether an answer refuses the API key: "rest" (REST access not enabled), "key", or None.

    401 and 403 always refuse the key; another 4xx does when its message names the API key
    or says REST is not allowed.  Retryable answers (429) never do.
    """
    if not 400 <= status < 500 or status == 429:
        return None
    if REST_NOT_ENABLED_RE.search(message or ""):
        return "rest"
    if status in (401, 403) or KEY_MESSAGE_RE.search(message or ""):
        return "key"
    return None


class FeedPage(list[dict[str, Any]]):
    """One GET /contacts answer: its contacts in the canonical shape (see :func:`feed_contact`).

    A list, so a caller that stores pages stores this; plus ``raw_body`` (the answer's text, for a
    store that keeps raw pages) and ``without_id`` (the contacts that had no readable id: kept in
    the page with ``"id": None``, never dropped, so a caller can report them).
    """

    def __init__(self, contacts: Iterable[dict[str, Any]] = (), raw_body: str = "") -> None:
        super().__init__(contacts)
        self.raw_body = raw_body

    @property
    def without_id(self) -> list[dict[str, Any]]:
        return [c for c in self if c.get("id") is None]


def parse_feed(text: str) -> FeedPage | None:
    """A GET /contacts answer as a :class:`FeedPage`, or None if it is not a list of contacts."""
    items = parse_feed_page(text)
    if items is None:
        return None
    return FeedPage((feed_contact(item) for item in items), raw_body=text)


def feed_contact(item: Any) -> dict[str, Any]:
    """One feed item in the canonical shape the rest of the connector reads.

    ``{"id": int | str | None, "email": str | None, "mobile_number": digits | None,
    "fields": [{"name": "field<N>", "content": str}], "created_date": ISO text | None}`` plus
    every other key of the item as it was (confirmation_status, groups...).  Personal fields
    are read from a list of ``{name, content}``, a dict, or top-level ``fieldN`` keys; a mobile
    keeps its digits only; a created date in ISO, ``MM/DD/YYYY HH:MM:SS`` or ``/Date(ms)/`` is
    written as ISO (unreadable dates are kept as they are).  Not a JSON object: an empty
    contact with the item under ``"raw"``.
    """
    if not isinstance(item, dict):
        return {"id": None, "email": None, "mobile_number": None, "fields": [], "created_date": None,
                "raw": item}
    consumed: set[str] = set()

    def first(keys: tuple[str, ...]) -> Any:
        for key in keys:
            if key in item:
                consumed.add(key)
                return item[key]
        return None

    contact_id = first(CONTACT_ID_KEYS)
    email = first(FEED_EMAIL_KEYS)
    mobile = first(FEED_MOBILE_KEYS)
    created = first(FEED_CREATED_KEYS)
    fields = feed_fields(first(FEED_FIELDS_KEYS))
    for key, value in item.items():
        number = field_number(key, bare=False)
        if number is not None and key not in consumed:
            consumed.add(key)
            fields.setdefault(number, feed_text(value))
    if isinstance(contact_id, str) and not _positive_int(contact_id):
        contact_id = contact_id.strip() or None  # not a number: kept as the id inwise gave
    else:
        contact_id = _positive_int(contact_id)
    out: dict[str, Any] = {
        "id": contact_id,
        "email": (feed_text(email).strip() or None) if email is not None else None,
        "mobile_number": (re.sub(r"\D", "", feed_text(mobile)) or None) if mobile is not None else None,
        "fields": [{"name": f"field{n}", "content": fields[n]} for n in sorted(fields)],
        "created_date": feed_iso_date(created),
    }
    out.update((key, value) for key, value in item.items() if key not in consumed and key not in out)
    return out


_FIELD_KEY_RE = re.compile(r"^(field\s*)?(\d+)$", re.IGNORECASE)


def field_number(name: Any, *, bare: bool) -> int | None:
    """``field7``/``Field7`` -> 7; a bare ``7`` too when ``bare`` (inside a fields dict or list)."""
    match = _FIELD_KEY_RE.match(str(name).strip()) if isinstance(name, (str, int)) else None
    if match is None or (match.group(1) is None and not bare):
        return None
    number = int(match.group(2))
    return number if number > 0 else None


def feed_fields(value: Any) -> dict[int, str]:
    """Personal fields by number from a list of ``{name, content}`` or a dict (the first of a number wins)."""
    found: dict[int, str] = {}
    if isinstance(value, dict):
        for name, content in value.items():
            number = field_number(name, bare=True)
            if number is not None:
                found.setdefault(number, feed_text(content))
    elif isinstance(value, list):
        for entry in value:
            if not isinstance(entry, dict):
                continue
            name = next((entry[k] for k in ("name", "Name", "field", "field_name") if k in entry), None)
            content = next((entry[k] for k in ("content", "Content", "value", "Value") if k in entry), None)
            number = field_number(name, bare=True)
            if number is not None:
                found.setdefault(number, feed_text(content))
    return found


def feed_text(value: Any) -> str:
    """A feed value as text (``7.0`` -> ``"7"``, None -> ``""``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_DOTNET_DATE_RE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def feed_iso_date(value: Any) -> str | None:
    """A feed item's created date as ISO text; None when absent; kept as it is when unreadable."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    dotnet = _DOTNET_DATE_RE.match(text)
    if dotnet:
        moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(dotnet.group(1)))
        return moment.isoformat().replace("+00:00", "Z")
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return text
    except ValueError:
        pass
    for pattern in FEED_DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).isoformat()
        except ValueError:
            continue
    return text


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None

