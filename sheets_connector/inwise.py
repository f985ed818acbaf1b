"""The inwise REST API client: session, auth, timeouts, bounded retries, 422 parsing.

Every HTTP concern of the connector lives here, and nothing else does.  Three calls are used:

- ``POST /contacts``              create-or-update one contact     -> :meth:`InwiseClient.upsert`
                                  (and many, concurrently)          -> :meth:`InwiseClient.upsert_many`
- ``POST /contacts/batchInsert``  import a chunk of contacts as CSV -> :meth:`InwiseClient.batch_insert`
- ``GET /contacts``               the once-only feed of new contacts -> :meth:`InwiseClient.pull_new_contacts`

Retries are configuration, not loops: a :class:`urllib3.util.Retry` subclass (:class:`_InwiseRetry`)
mounted on the session's adapter retries connection failures, dropped connections, timeouts,
429 and 5xx with exponential backoff and jitter, honours ``Retry-After`` up to a cap, and counts
every retry it makes.  When the retries run out the last answer (or failure) is turned into a
per-row result; only a refused API key (401/403) stops a run, as :class:`InwiseAuthError`.

The API key travels only in the ``X-API-Key`` header.  It never appears in a URL, a log line,
an exception message or ``repr()`` -- messages built from inwise's answers or from
``requests`` exceptions are passed through :meth:`InwiseClient._redact` first.

Example::

    with InwiseClient("https://api.inwise.com/rest/v1", os.environ["INWISE_API_KEY"]) as client:
        result = client.upsert(Contact(email="dana@example.co.il", mobile=None), SendOptions())
        print(result.status, result.contact_id)
"""
from __future__ import annotations

import csv
import http
import io
import ipaddress
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader as Urllib3InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError as Urllib3SSLError,
)
from urllib3.util.retry import Retry

from . import __version__
from .errors import InwiseAuthError, InwiseError
from .model import BatchResult, Contact, SendOptions, UpsertResult

log = logging.getLogger(__name__)

K = TypeVar("K")

# ================================================================================================
# ASSUMPTIONS about inwise behaviour that its public documentation does not state.
# Everything the connector guesses about the wire format is in this block (and in the three
# body builders right below it), so that a correction is a one-place change.  See
# /work/shared/notes/inwise-api.md ("Assumed").
# ================================================================================================

#: Keys under which the 200 answer of POST /contacts may carry the contact's id.  The docs only
#: say "a JSON body giving you the id of the contact created"; ``{"id": <int>}`` is assumed,
#: the other spellings are tolerated.  A bare JSON integer body is accepted too.
CONTACT_ID_KEYS: tuple[str, ...] = ("id", "Id", "ID", "contact_id", "contactId")

#: Keys of a JSON error body that may hold inwise's human-readable message (ASP.NET style
#: ``{"Message": ...}`` and common alternatives).  A non-JSON body is used as plain text.
MESSAGE_KEYS: tuple[str, ...] = ("message", "Message", "error", "Error", "error_description",
                                 "detail", "title")

#: The 422 conflict message, documented as (note: no space after the first period)
#: ``The email exists for contact ID #439130785.The mobile number exists for contact ID #439134049.``
#: Tolerated: any spacing, either order, only one of the two, "mobile"/"mobile number"/"phone".
CONFLICT_RE: re.Pattern[str] = re.compile(
    r"\b(?P<what>e-?mail(?:\s+address)?|mobile(?:[\s_]*(?:phone\s*)?number)?|phone(?:\s*number)?)"
    r"\s+(?:already\s+)?exists?\s+(?:for|in|on)\s+(?:the\s+)?contact\s*(?:ID)?\s*[#:]?\s*(?P<id>\d+)",
    re.IGNORECASE,
)

#: GET /contacts returns at most this many contacts per call; a shorter page means "drained".
FEED_PAGE_SIZE: int = 1000

#: GET /contacts is assumed to answer a JSON list; a dict holding the list under one of these
#: keys is tolerated.
FEED_LIST_KEYS: tuple[str, ...] = ("contacts", "Contacts", "data", "Data", "items", "Items",
                                   "results", "Results")

#: Column names of the CSV sent to batchInsert (inwise maps them via ``fields_mapping``).
BATCH_EMAIL_COLUMN = "Email"
BATCH_MOBILE_COLUMN = "Mobile"
BATCH_FIELD_COLUMN = "Field{n}"  # personal field N -> column "Field<N>"

#: Statuses worth retrying: rate limiting and server-side trouble.  401/403/4xx are final.
RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})

#: How long an inwise message may be in a row's result before it is cut.
MESSAGE_LIMIT = 200


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

    Pure function.  Quoting of commas, quotes, newlines is the csv module's (minimal quoting,
    ``"`` doubled); lines end with ``\\n``.  A missing email/mobile/field is an empty cell.
    Raises ``ValueError`` if a contact carries a field number not in ``field_numbers`` (that
    would silently drop data).
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
    # (callers send foreign numbers in a batch of their own, see sync._send_batch).
    if all(is_domestic(c, options) for c in contacts):
        body["country_code"] = options.default_country_code
        body["trim_leading_zero"] = bool(options.trim_leading_zero)
    if group_id is not None:
        body["group_id"] = str(group_id)  # a string in the documentation's example
    return body


# ================================================================================================
# End of assumptions.
# ================================================================================================


def parse_conflict(message: str) -> dict[str, int]:
    """The contact IDs named in an inwise 422 message: ``{"email": id, "mobile": id}``.

    >>> parse_conflict("The email exists for contact ID #439130785.The mobile number exists for contact ID #439134049.")
    {'email': 439130785, 'mobile': 439134049}

    Keys present only for what the message names; ``{}`` when it names no ID.  If the same kind
    is named twice, the first ID wins.
    """
    found: dict[str, int] = {}
    for match in CONFLICT_RE.finditer(message or ""):
        kind = "email" if match.group("what").lower().replace("-", "").startswith("email") else "mobile"
        found.setdefault(kind, int(match.group("id")))
    return found


def _unique(numbers: Iterable[int]) -> list[int]:
    """``numbers`` as ints, first occurrence order, duplicates dropped."""
    seen: dict[int, None] = {}
    for n in numbers:
        seen.setdefault(int(n), None)
    return list(seen)


class _InwiseRetry(Retry):
    """urllib3 ``Retry`` with a capped ``Retry-After`` and a callback on every retry made.

    ``max_retry_after`` caps how long a ``Retry-After`` header can make us sleep (a server asking
    for 3600 s must not hang a run); an unparsable header falls back to the backoff instead of
    failing the request.  ``on_retry(error)`` is called each time a retry is actually going to
    happen (not when the retries are exhausted), with the exception that caused it or ``None``
    for a retryable status.
    """

    def __init__(self, *args: Any, max_retry_after: float = 60.0,
                 on_retry: Callable[[Exception | None], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = float(max_retry_after)
        self.on_retry = on_retry

    def new(self, **kw: Any) -> _InwiseRetry:
        kw.setdefault("max_retry_after", self.max_retry_after)
        kw.setdefault("on_retry", self.on_retry)
        return super().new(**kw)  # type: ignore[return-value]

    def get_retry_after(self, response: Any) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except Urllib3InvalidHeader:
            return None  # unparsable Retry-After: use the exponential backoff
        if seconds is None:
            return None
        return max(0.0, min(float(seconds), self.max_retry_after))

    def sleep_for_retry(self, response: Any) -> bool:
        # Re-implemented (not inherited) so the cap above holds whatever urllib3 2.x minor
        # version is installed; the base class only gained its own cap in a late 2.x release.
        seconds = self.get_retry_after(response)
        if seconds:
            time.sleep(seconds)
            return True
        return False

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None
                  ) -> _InwiseRetry:
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        # Reached only when a retry will happen: an exhausted Retry raises MaxRetryError above.
        if self.on_retry is not None:
            self.on_retry(error)
        return new  # type: ignore[return-value]


class InwiseClient:
    """A client of inwise's REST API (``https://api.inwise.com/rest/v1``).

    One instance may be shared by many threads (``upsert_many`` does).  ``requests.Session``
    with an ``HTTPAdapter`` pool of ``pool_size`` connections per host; keep ``pool_size`` at
    least as large as the concurrency you use, or surplus connections are opened and discarded.

    :param base_url: e.g. ``https://api.inwise.com/rest/v1`` or a sandbox's ``base_url``.
    :param api_key: sent as ``X-API-Key``; never shown in messages.
    :param timeout: (connect, read) seconds per attempt.
    :param retries: how many times one call is retried (so ``retries + 1`` tries at most).
    :param backoff_factor: exponential backoff between retries: ``factor * 2**(n-1)`` s plus up to
        ``factor`` s of random jitter, at most ``backoff_max`` s (urllib3's formula; the first
        retry is immediate).
    :param max_retry_after: the longest a ``Retry-After`` header may make us wait.
    :param api_key_source: where the key came from, for the 401 message (an environment variable
        name such as ``INWISE_API_KEY``, or a description such as ``"the key 'api_key' in sync.yaml"``).
    :param trust_env: honour ``HTTP(S)_PROXY``/``NO_PROXY``/``.netrc``/``REQUESTS_CA_BUNDLE`` from the
        environment.  Off by default so that a proxy variable can never divert the sandbox's
        loopback traffic; a deployment behind a corporate proxy must turn it on.
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: tuple[float, float] = (5.0, 60.0),
                 retries: int = 5, backoff_factor: float = 0.5, backoff_max: float = 30.0,
                 max_retry_after: float = 60.0, pool_size: int = 8,
                 api_key_source: str = "INWISE_API_KEY", trust_env: bool = False) -> None:
        self.api_key_source = api_key_source
        key = (api_key or "").strip()
        if not key:
            raise InwiseAuthError(f"No inwise API key: set {self._key_where()} to the REST API key "
                                  "of your inwise account.")
        if not re.fullmatch(r"[\x21-\x7e]+", key):
            # requests would reject the header with a message that quotes the key.
            raise InwiseAuthError(f"The inwise API key in {self._key_where()} contains spaces or "
                                  "characters not allowed in an HTTP header; copy the key again "
                                  "from inwise.")
        self._api_key = key

        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InwiseError(f"The inwise API address {base_url!r} is not an http(s) URL; "
                              "use e.g. https://api.inwise.com/rest/v1")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            log.warning("The inwise API address %s is plain http: the API key travels unencrypted.",
                        base_url)
        self.base_url = base_url.strip().rstrip("/")
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.max_tries = int(retries) + 1
        self.pool_size = int(pool_size)

        self._lock = threading.Lock()
        self._retry_count = 0
        self.calls: Counter[str] = Counter()
        self._local = threading.local()  # per-thread retries of the call in progress
        #: GET /contacts answers that may have been lost (request retried after it was sent).
        self.feed_answers_maybe_lost = 0

        retry = _InwiseRetry(
            total=retries, connect=retries, read=retries, status=retries, other=retries,
            redirect=0,
            # POST is retried on purpose: POST /contacts is create-or-update matched by email and
            # mobile, so sending it twice (e.g. when the answer to the first try was lost) updates
            # the same contact instead of creating a duplicate.  batchInsert is likewise matched
            # by email/mobile (with updateExistingContacts it updates, without it skips existing).
            # GET /contacts is not idempotent (each contact is returned once), see pull_new_contacts.
            allowed_methods=None,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor, backoff_max=backoff_max, backoff_jitter=backoff_factor,
            respect_retry_after_header=True,
            raise_on_status=False,  # give us the last 5xx/429 answer, not an exception
            raise_on_redirect=False,
            max_retry_after=max_retry_after,
            on_retry=self._note_retry,
        )
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=retry)
        self.session = requests.Session()
        self.session.trust_env = trust_env
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({
            "X-API-Key": key,
            "Accept": "application/json",
            "User-Agent": f"sheets-connector/{__version__}",
        })

    # -- counters ---------------------------------------------------------------------------------

    @property
    def retries(self) -> int:
        """How many retries this client has made so far (all threads, all calls)."""
        with self._lock:
            return self._retry_count

    def stats(self) -> dict[str, Any]:
        """``{"calls": {"POST /contacts": n, ...}, "retries": n}`` -- logical calls and retries."""
        with self._lock:
            return {"calls": dict(self.calls), "retries": self._retry_count}

    def _note_retry(self, error: Exception | None) -> None:
        with self._lock:
            self._retry_count += 1
        self._local.retries = getattr(self._local, "retries", 0) + 1
        # A read error means the request was sent and the answer lost: it may have been processed.
        if error is not None and isinstance(error, (ReadTimeoutError, ProtocolError)):
            self._local.sent_and_lost = True
        log.debug("inwise: retrying after %s", "HTTP error status" if error is None
                  else type(error).__name__)

    # -- HTTP -------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, json_body: Any = None) -> requests.Response:
        """One logical call (retries included).  Raises ``requests.RequestException`` on failure."""
        with self._lock:
            self.calls[f"{method} {path}"] += 1
        self._local.retries = 0
        self._local.sent_and_lost = False
        # Redirects are not followed: requests would carry X-API-Key to whatever host the
        # redirect names (it strips only "Authorization"), and a POST would turn into a GET.
        return self.session.request(method, self.base_url + path, json=json_body,
                                    timeout=self.timeout, allow_redirects=False)

    def _tries(self) -> int:
        return getattr(self._local, "retries", 0) + 1

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _key_where(self) -> str:
        """Where the key comes from, for messages: "the environment variable X" or as given."""
        source = self.api_key_source
        if re.fullmatch(r"[A-Z_][A-Z0-9_]*", source):
            return f"the environment variable {source}"
        return source

    def _auth_error(self, response: requests.Response) -> InwiseAuthError:
        detail = self._message(response)
        detail = f": {detail}" if detail else ""
        return InwiseAuthError(
            f"inwise refused the API key (HTTP {response.status_code}{detail}). Check the key in "
            f"{self._key_where()}: it must be the REST API key of the inwise account you sync to.")

    def _message(self, response: requests.Response, limit: int | None = MESSAGE_LIMIT) -> str:
        """inwise's message in an answer: JSON message/Message/error..., else the text; redacted."""
        text = response.text or ""
        message: str | None = None
        try:
            data = response.json()
        except ValueError:
            data = None
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
            message = text
        message = self._redact(" ".join(message.split()))
        if limit is not None and len(message) > limit:
            message = message[: limit - 1].rstrip() + "…"
        return message

    def _status_text(self, response: requests.Response) -> str:
        code = response.status_code
        reason = response.reason
        if not reason:
            try:
                reason = http.HTTPStatus(code).phrase
            except ValueError:
                reason = ""
        return f"HTTP {code} {reason}".rstrip()

    def _gave_up_message(self, response: requests.Response) -> str:
        """Plain words for a final 5xx/429 (after retries) or another unexpected status."""
        tries = self._tries()
        status = self._status_text(response)
        detail = self._message(response) if response.status_code not in RETRY_STATUSES else ""
        if response.status_code in RETRY_STATUSES:
            verb = "was still rate-limiting us" if response.status_code == 429 else "did not answer"
            return f"inwise {verb} after {tries} {'try' if tries == 1 else 'tries'} ({status})"
        if 300 <= response.status_code < 400:
            return (f"inwise answered with a redirect ({status}) to "
                    f"{response.headers.get('Location', '?')}; check the inwise API address")
        return f"inwise answered {status}" + (f": {detail}" if detail else "")

    def _failure_message(self, exc: requests.RequestException) -> str:
        """Plain words for a request that got no usable answer, after retries."""
        tries = self._tries()
        why = self._describe_exception(exc)
        return f"inwise did not answer after {tries} {'try' if tries == 1 else 'tries'} ({why})"

    def _describe_exception(self, exc: BaseException) -> str:
        reason: BaseException | None = exc
        # requests wraps urllib3's MaxRetryError; the interesting part is its .reason.
        for arg in getattr(exc, "args", ()):
            if isinstance(arg, MaxRetryError):
                reason = arg.reason
                break
            if isinstance(arg, BaseException):
                reason = arg
        connect_s, read_s = (f"{t:g}" for t in self.timeout)
        if isinstance(exc, requests.ConnectTimeout) or (
                isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError)):
            return f"could not connect within {connect_s} s"
        if isinstance(exc, requests.ReadTimeout) or isinstance(reason, ReadTimeoutError):
            return f"timed out after {read_s} s"
        if isinstance(reason, NewConnectionError) or isinstance(reason, ConnectionRefusedError):
            host = urlsplit(self.base_url).netloc
            return f"could not connect to {host}"
        if isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, Urllib3SSLError):
            return "TLS/SSL error: " + self._redact(str(reason))[:MESSAGE_LIMIT]
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return "connection dropped while reading the answer"
        if isinstance(exc, requests.exceptions.RetryError):
            return "too many error answers"
        if isinstance(reason, (ProtocolError, ConnectionError)) or isinstance(exc, requests.ConnectionError):
            return "connection dropped"
        return f"{type(exc).__name__}: {self._redact(str(exc))[:MESSAGE_LIMIT]}"

    # -- POST /contacts ---------------------------------------------------------------------------

    def upsert(self, contact: Contact, options: SendOptions) -> UpsertResult:
        """Create or update one contact (``POST /contacts``), retries included.

        Never raises for a row's problem or for inwise being down: the result's ``status`` says
        ok / conflict (422) / rejected (other 4xx) / error (retries ran out).  Raises
        :class:`InwiseAuthError` on 401/403 -- every other row would fail the same way.
        """
        if contact.email is None and contact.mobile is None:
            return UpsertResult("rejected", message="the contact has neither an email nor a mobile number")
        try:
            response = self._request("POST", "/contacts", contact_body(contact, options))
        except requests.RequestException as exc:
            return UpsertResult("error", message=self._failure_message(exc))

        code = response.status_code
        if 200 <= code < 300:
            contact_id = _contact_id(response)
            if contact_id is None:
                return UpsertResult("error", http_status=code, message=(
                    f"inwise answered {self._status_text(response)} without a contact id "
                    f"(answer: {self._message(response) or 'empty'})"))
            return UpsertResult("ok", contact_id=contact_id, http_status=code)
        if code in (401, 403):
            raise self._auth_error(response)
        if code == 422:
            full = self._message(response, limit=None)
            ids = parse_conflict(full) or parse_conflict(self._redact(response.text or ""))
            return UpsertResult("conflict", conflict=ids, http_status=code,
                                message=self._message(response) or "conflict (HTTP 422)")
        if 400 <= code < 500 and code != 429:
            return UpsertResult("rejected", http_status=code,
                                message=self._message(response) or self._status_text(response))
        return UpsertResult("error", http_status=code, message=self._gave_up_message(response))

    def upsert_many(self, items: Iterable[tuple[K, Contact]], options: SendOptions, *,
                    concurrency: int, on_result: Callable[[K, UpsertResult], None]) -> None:
        """Upsert many contacts with at most ``concurrency`` requests in flight.

        ``items`` is consumed lazily (at most ``2 * concurrency`` contacts are queued at a time);
        ``on_result(key, result)`` is called in the caller's thread, in completion order, so it
        may update a progress bar or a results list without locks.  Every item gets exactly one
        ``on_result`` call -- unless a 401/403 happens: then no new request is started, queued
        ones are cancelled (no ``on_result`` for them), those in flight finish and are reported,
        and the :class:`InwiseAuthError` is raised.  An exception raised by ``on_result`` or by
        ``items`` cancels the queued requests and propagates.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if concurrency > self.pool_size:
            log.warning("inwise: concurrency %d is above the connection pool size %d; surplus "
                        "connections will be opened and discarded (raise pool_size).",
                        concurrency, self.pool_size)
        window = 2 * concurrency
        iterator = iter(items)
        pending: dict[Future[UpsertResult], K] = {}
        auth_error: InwiseAuthError | None = None
        exhausted = False
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="inwise") as pool:
            try:
                while True:
                    while not exhausted and auth_error is None and len(pending) < window:
                        try:
                            key, contact = next(iterator)
                        except StopIteration:
                            exhausted = True
                            break
                        pending[pool.submit(self.upsert, contact, options)] = key
                    if not pending:
                        break
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        key = pending.pop(future)
                        try:
                            result = future.result()
                        except CancelledError:
                            continue
                        except InwiseAuthError as exc:
                            if auth_error is None:
                                auth_error = exc
                                for other in pending:
                                    other.cancel()
                            continue
                        on_result(key, result)
            except KeyboardInterrupt:
                # Ctrl-C: start nothing new, but requests already on the wire may have changed
                # inwise - wait for them and report them, so their rows get a true result.
                for future in pending:
                    future.cancel()
                for future, key in list(pending.items()):
                    if future.cancelled():
                        continue
                    try:
                        result = future.result()
                    except (CancelledError, InwiseAuthError):
                        continue
                    on_result(key, result)
                pending.clear()
                raise
            finally:
                for future in pending:
                    future.cancel()
        if auth_error is not None:
            raise auth_error

    # -- POST /contacts/batchInsert ---------------------------------------------------------------

    def batch_insert(self, contacts: Sequence[Contact], options: SendOptions, *,
                     field_numbers: Sequence[int], group_id: int | None) -> BatchResult:
        """Import a chunk of contacts in one ``POST /contacts/batchInsert``, retries included.

        inwise gives no per-row outcome (that we know of): ``ok`` means the chunk was accepted.
        Raises :class:`InwiseAuthError` on 401/403; never raises for other failures.
        """
        body = batch_body(contacts, options, field_numbers=field_numbers, group_id=group_id)
        try:
            response = self._request("POST", "/contacts/batchInsert", body)
        except requests.RequestException as exc:
            return BatchResult(ok=False, message=self._failure_message(exc))
        code = response.status_code
        if code in (401, 403):
            raise self._auth_error(response)
        if 200 <= code < 300:
            return BatchResult(ok=True, http_status=code, body=_json_dict(response))
        if 400 <= code < 500 and code != 429:
            message = self._message(response) or self._status_text(response)
            return BatchResult(ok=False, http_status=code, message=f"inwise refused the batch: {message}")
        return BatchResult(ok=False, http_status=code, message=self._gave_up_message(response))

    # -- GET /contacts ----------------------------------------------------------------------------

    def pull_new_contacts(self, *, max_pages: int | None = None,
                          keep_raw: Callable[[bytes], None] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Drain inwise's feed of newly created contacts, one page (≤ 1000 contacts) at a time.

        Each page is yielded as soon as it arrives and the next request is made only when the
        caller asks for the next page: the feed returns each contact only once, ever, so the
        caller must store a page durably before iterating on.  Stops after a page shorter than
        1000 (or after ``max_pages``).

        ``keep_raw(body)`` is called with the raw bytes of every 2xx answer *before* they are
        parsed, so a store can commit exactly what inwise sent, even an answer that turns out not
        to be a list of contacts; if it raises, the pull stops there (no further request).

        Raises :class:`InwiseAuthError` on 401/403 and :class:`InwiseError` when a page cannot be
        fetched after retries, or is not a list of contacts (the raw answer is then on the
        exception's ``raw_body`` so the caller can still keep it).  Pages yielded before that
        were already handed over.

        Note: if an answer is lost after inwise sent it (connection dropped or read timeout),
        the retry gets the *next* contacts and the lost ones are gone from the feed; this is
        logged and counted in ``feed_answers_maybe_lost``.
        """
        pages = 0
        while max_pages is None or pages < max_pages:
            try:
                response = self._request("GET", "/contacts")
            except requests.RequestException as exc:
                self._check_feed_loss()
                raise InwiseError("Could not read the new contacts from inwise (GET /contacts): "
                                  f"{self._failure_message(exc)}. Contacts read before this were "
                                  "saved; run the pull again later.") from None
            self._check_feed_loss()
            code = response.status_code
            if code in (401, 403):
                raise self._auth_error(response)
            if not 200 <= code < 300:
                raise InwiseError("Could not read the new contacts from inwise (GET /contacts): "
                                  f"{self._gave_up_message(response)}. Contacts read before this "
                                  "were saved; run the pull again later.")
            if keep_raw is not None:
                keep_raw(response.content)
            page = parse_feed_answer(response.content)
            if page is None:
                kept = "it was handed to the store before parsing" if keep_raw is not None else \
                    "the answer is kept on this error as raw_body"
                error = InwiseError(
                    "inwise answered GET /contacts with something that is not a list of contacts "
                    f"(starts with {self._redact(response.text[:80])!r}); {kept}.")
                error.raw_body = response.text  # type: ignore[attr-defined]
                raise error
            pages += 1
            yield page
            if len(page) < FEED_PAGE_SIZE:
                return

    def _check_feed_loss(self) -> None:
        if getattr(self._local, "sent_and_lost", False):
            with self._lock:
                self.feed_answers_maybe_lost += 1
            log.warning("inwise: an answer to GET /contacts was lost after the request was sent; "
                        "the contacts it held may be missing from the pulled contacts.")

    # -- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def __enter__(self) -> InwiseClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"InwiseClient({self.base_url!r})"


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json_dict(response: requests.Response) -> dict | None:
    data = _json(response)
    if data is None or isinstance(data, dict):
        return data
    return {"response": data}


def _contact_id(response: requests.Response) -> int | None:
    """The contact id in a 2xx answer of POST /contacts, or None (see CONTACT_ID_KEYS)."""
    data = _json(response)
    value: Any = None
    if isinstance(data, dict):
        for key in CONTACT_ID_KEYS:
            if key in data:
                value = data[key]
                break
    elif isinstance(data, (int, str)) and not isinstance(data, bool):
        value = data
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None


def parse_feed_answer(raw: bytes) -> list[Any] | None:
    """The list of items in a GET /contacts answer (see FEED_LIST_KEYS), or None if it holds
    none.  The items themselves are not checked: a store keeps the good ones, reports the rest."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict):
        for key in FEED_LIST_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if isinstance(data, list):
        return data
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
