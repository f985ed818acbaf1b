"""The inwise REST API client: session, auth, timeouts, retries, concurrency, cancellation.

Three calls are used:

- ``POST /contacts``              create-or-update one contact      -> :meth:`InwiseClient.upsert`
                                  (and many, concurrently)          -> :meth:`InwiseClient.upsert_many`
- ``POST /contacts/batchInsert``  import a chunk of contacts as CSV -> :meth:`InwiseClient.batch_insert`
- ``GET /contacts``               the once-only feed of new contacts -> :meth:`InwiseClient.pull_new_contacts`

Bodies and the reading of answers are in ``wire.py``; retries are the one policy of
``sheets_connector.retry`` (a ``urllib3.Retry`` mounted on the session), and this client only
counts them.  When the retries run out the last answer (or failure) becomes a per-row result;
only a refused API key stops a run, as :class:`InwiseAuthError`.

The API key travels only in the ``X-API-Key`` header.  It never appears in a URL, a log line,
an exception message or ``repr()``: every text taken from an answer or from an exception goes
through :meth:`InwiseClient._redact` first.

Example::

    with InwiseClient("https://api.inwise.com/rest/v1", os.environ["INWISE_API_KEY"]) as client:
        result = client.upsert(Contact(email="dana@example.co.il", mobile=None), SendOptions())
        log.info("%s %s", result.status, result.contact_id)
"""
from __future__ import annotations

import http
import ipaddress
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ThreadPoolExecutor, wait
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import (
    SSLError as Urllib3SSLError,
)

from .. import __version__, metrics
from ..errors import InwiseAddressError, InwiseAuthError, InwiseError
from ..messages.catalog import Msg, msg, said
from ..model import BatchResult, Contact, SendOptions, UpsertResult
from ..retry import RETRY_STATUSES, RetryPolicy, mount_retry
from .wire import (
    ADDRESS_STATUSES,
    ADDRESS_SUSPECT_ANSWERS,
    API_ADDRESS,
    API_KEY_HEADER,
    FEED_PAGE_SIZE,
    FeedPage,
    batch_body,
    contact_body,
    foreign_answer,
    key_refusal,
    parse_conflict,
    parse_contact_id,
    parse_feed,
    parse_feed_page,
    parse_json,
    parse_message,
)

log = logging.getLogger(__name__)

K = TypeVar("K")

#: How long an inwise message may be in a row's result before it is cut.
MESSAGE_LIMIT = 200
#: The message of an ``ok`` result whose answer held no readable contact id.
NO_ID_MESSAGE = "inwise gave no contact id"


class Backlog(Protocol):
    """Answers the caller of ``upsert_many`` was handed and has not kept yet (a group commit)."""

    def unkept(self) -> int: ...

    def wait_unkept_below(self, n: int) -> None: ...


class CancelFlag(Protocol):
    """What the client needs of a cancel token: ``threading.Event`` or the run's ``CancelToken``."""

    def is_set(self) -> bool: ...


class InwiseClient:
    """A client of inwise's REST API (``https://api.inwise.com/rest/v1``).

    One instance may be shared by many threads (``upsert_many`` does): a ``requests.Session``
    with a pool of ``pool_size`` connections; keep it at least as large as the concurrency.

    :param base_url: e.g. ``https://api.inwise.com/rest/v1`` or a sandbox's ``base_url``.
    :param api_key: sent as ``X-API-Key``; never shown in messages.
    :param policy: retries, backoff and timeouts (defaults: :class:`RetryPolicy`'s).
    :param api_key_source: where the key came from, for messages (an environment variable
        name such as ``INWISE_API_KEY``, or a description such as ``"the key 'api_key' in sync.yaml"``).
    :param trust_env: honour ``HTTP(S)_PROXY``/``NO_PROXY``/``.netrc``/``REQUESTS_CA_BUNDLE`` from the
        environment.  Off by default so that a proxy variable can never divert the sandbox's
        loopback traffic; a deployment behind a corporate proxy must turn it on.
    """

    def __init__(self, base_url: str, api_key: str, *, policy: RetryPolicy | None = None,
                 pool_size: int = 8, api_key_source: str = "INWISE_API_KEY",
                 trust_env: bool = False) -> None:
        self.api_key_source = api_key_source
        self._api_key = self._checked_key(api_key)
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InwiseError(said("net.bad_url", url=repr(base_url), api=API_ADDRESS))
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            log.warning("The inwise API address %s is plain http: the API key travels unencrypted.",
                        base_url)
        self.base_url = base_url.strip().rstrip("/")
        self.policy = policy or RetryPolicy()
        self.pool_size = int(pool_size)

        self._lock = threading.Lock()
        self._retry_count = 0
        self.calls: Counter[str] = Counter()
        self._local = threading.local()  # per-thread retries of the call in progress
        #: GET /contacts answers that may have been lost (request retried after it was sent).
        self.feed_answers_maybe_lost = 0
        #: Feed items that came without a readable id (kept in their page, see FeedPage.without_id).
        self.feed_items_without_id = 0
        # The first answers, until one shows the address is right: (status, what, message).
        self._address_answers: list[tuple[int, str, str]] = []
        self._address_ok = False

        self.session = requests.Session()
        self.session.trust_env = trust_env
        mount_retry(self.session, self.policy, pool_maxsize=self.pool_size, on_retry=self._note_retry)
        metrics.watch(self.session, "inwise")
        self.session.headers.update({
            API_KEY_HEADER: self._api_key,
            "Accept": "application/json",
            "User-Agent": f"sheets-connector/{__version__}",
        })

    def _checked_key(self, api_key: str | None) -> str:
        """The key without surrounding whitespace; InwiseAuthError when it cannot be a key."""
        key = (api_key or "").strip()
        if not key:
            raise InwiseAuthError(said("net.no_key", where=self._key_where()))
        if not re.fullmatch(r"[\x21-\x7e]+", key):
            # requests would reject the header with a message that quotes the key.
            raise InwiseAuthError(said("net.key_spaces", where=self._key_where()))
        return key

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
                                    timeout=self.policy.timeout, allow_redirects=False)

    def _tries(self) -> int:
        return int(getattr(self._local, "retries", 0)) + 1

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if getattr(self, "_api_key", "") else text

    def _key_where(self) -> str:
        """Where the key comes from, for messages: "the environment variable X" (a message) or as given."""
        source = self.api_key_source
        if re.fullmatch(r"[A-Z_][A-Z0-9_]*", source):
            return said("err.key_env", env=source)
        return source

    def _check_key(self, response: requests.Response) -> None:
        """Raise InwiseAuthError when the answer refuses the key (see ``wire.key_refusal``)."""
        if not 400 <= response.status_code < 500 or response.status_code == 429:
            return  # never a refusal (key_refusal): the answer's message need not be read (a feed answer is decoded once, by its store)
        refusal = key_refusal(response.status_code, self._message(response, limit=None))
        if refusal is None:
            return
        detail = self._message(response)
        status = f"HTTP {response.status_code}" + (f": {detail}" if detail else "")
        if refusal == "rest":
            raise InwiseAuthError(said("err.rest_off", status=status, where=self._key_where()))
        raise InwiseAuthError(said("err.key_refused", status=status, where=self._key_where()))

    def _check_address(self, response: requests.Response, call: str, *, one_is_enough: bool) -> None:
        """Raise InwiseAddressError when the first answers say the API address is wrong.

        Until one answer shows the address is right, 404/405/413 and redirects are counted:
        ``ADDRESS_SUSPECT_ANSWERS`` of them (or one, with ``one_is_enough``) stop the run.
        """
        code = response.status_code
        suspect = code in ADDRESS_STATUSES or 300 <= code < 400
        with self._lock:
            if self._address_ok:
                return
            if not suspect:
                if code < 500 and code != 429:  # inwise answered as inwise does
                    self._address_ok = True
                return
            self._address_answers.append((code, call, self._answer_words(response)))
            count = len(self._address_answers)
        if one_is_enough or count >= ADDRESS_SUSPECT_ANSWERS:
            raise self._address_error()

    def _check_inwise(self, response: requests.Response, call: str) -> None:
        """Raise InwiseAddressError when a 2xx answer cannot be inwise's (see ``wire.foreign_answer``):
        nothing says the request was applied, so the row must not count as synced."""
        what = foreign_answer(response.text or "", response.headers.get("Content-Type", ""))
        if what is None:
            return
        raise InwiseAddressError(
            f"{call} was answered {self._status_text(response)} with {self._redact(what)}, which is not an answer "
            f"of inwise (inwise answers JSON). The inwise API address {self.base_url} looks wrong (it should be "
            f"{API_ADDRESS}), or something in between (a proxy, a login or maintenance page) answers in inwise's "
            "place. " + ("The run stopped there: nothing was read from inwise's list of new contacts. " if call.startswith("GET")
                         else "The run stopped there: rows without inwise's answer are not marked as synced and "
                              "the next run sends them again. ")
            + "Fix inwise.base_url in the mapping (or the network), then run again.")

    def _address_error(self) -> InwiseAddressError:
        with self._lock:
            answers = list(self._address_answers)
        code, call, words = answers[0]
        first = msg("err.first_answers", n=len(answers)) if len(answers) > 1 else msg("err.first_answer")
        return InwiseAddressError(said("err.address", url=self.base_url, first=first, words=words, api=API_ADDRESS),
                                  base_url=self.base_url)

    def _answer_words(self, response: requests.Response) -> str:
        status = self._status_text(response)
        if 300 <= response.status_code < 400:
            return f"{status} to {response.headers.get('Location', '?')}"
        detail = self._message(response)
        return f"{status} ({detail})" if detail and detail != status else status

    def address_suspected(self) -> bool:
        """True while every answer so far said the address is wrong (404/405/413, redirects)."""
        with self._lock:
            return bool(self._address_answers) and not self._address_ok

    def _message(self, response: requests.Response, limit: int | None = MESSAGE_LIMIT) -> str:
        """inwise's message in an answer (see ``wire.parse_message``), redacted and cut."""
        message = self._redact(parse_message(response.text or ""))
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
        if response.status_code in RETRY_STATUSES:
            return said("net.rate_limited" if response.status_code == 429 else "net.gave_up",
                        tries=_tries_text(tries), status=status)
        if 300 <= response.status_code < 400:
            return said("net.redirect", status=status, location=response.headers.get("Location", "?"))
        detail = self._message(response)
        return said("net.answered_said", status=status, detail=detail) if detail else said("net.answered", status=status)

    def _failure_message(self, exc: requests.RequestException) -> str:
        """Plain words for a request that got no usable answer, after retries."""
        return said("net.no_answer", tries=_tries_text(self._tries()), why=self._describe_exception(exc))

    def _describe_exception(self, exc: BaseException) -> str:
        reason: BaseException | None = exc
        # requests wraps urllib3's MaxRetryError; the interesting part is its .reason.
        for arg in getattr(exc, "args", ()):
            if isinstance(arg, MaxRetryError):
                reason = arg.reason
                break
            if isinstance(arg, BaseException):
                reason = arg
        connect_s, read_s = (f"{t:g}" for t in self.policy.timeout)
        if isinstance(exc, requests.ConnectTimeout) or (
                isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError)):
            return said("net.connect_timeout", s=connect_s)
        if isinstance(exc, requests.ReadTimeout) or isinstance(reason, ReadTimeoutError):
            return said("net.read_timeout", s=read_s)
        if isinstance(reason, (NewConnectionError, ConnectionRefusedError)):
            return said("net.refused", host=urlsplit(self.base_url).netloc)
        if isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, Urllib3SSLError):
            return said("net.tls", detail=self._redact(str(reason))[:MESSAGE_LIMIT])
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return said("net.chunked")
        if isinstance(exc, requests.exceptions.RetryError):
            return said("net.too_many")
        if isinstance(reason, (ProtocolError, ConnectionError)) or isinstance(exc, requests.ConnectionError):
            return said("net.dropped")
        return f"{type(exc).__name__}: {self._redact(str(exc))[:MESSAGE_LIMIT]}"

    # -- POST /contacts ---------------------------------------------------------------------------

    def upsert(self, contact: Contact, options: SendOptions) -> UpsertResult:
        """Create or update one contact (``POST /contacts``), retries included.

        Never raises for a row's problem or for inwise being down: the result's ``status`` says
        ok / conflict (422) / rejected (other 4xx) / error (retries ran out).  ``ok`` with
        ``contact_id`` None means inwise answered 2xx without a readable id (``message`` says
        so): the change was applied.  Raises :class:`InwiseAuthError` when inwise refuses the
        key and :class:`InwiseAddressError` when the first answers say the address is wrong --
        every other row would fail the same way.
        """
        if contact.email is None and contact.mobile is None:
            return UpsertResult("rejected", message="the contact has neither an email nor a mobile number")
        try:
            response = self._request("POST", "/contacts", contact_body(contact, options))
        except requests.RequestException as exc:
            return UpsertResult("error", message=self._failure_message(exc))

        code = response.status_code
        self._check_key(response)
        self._check_address(response, "POST /contacts", one_is_enough=False)
        if 200 <= code < 300:
            self._check_inwise(response, "POST /contacts")
            contact_id = parse_contact_id(response.text)
            if contact_id is None:
                # inwise applied the change; the row says so, without an id.
                log.debug("inwise: POST /contacts answered %s without a readable id: %s",
                          code, self._message(response))
                return UpsertResult("ok", http_status=code, message=NO_ID_MESSAGE)
            return UpsertResult("ok", contact_id=contact_id, http_status=code)
        if code == 422:
            ids = (parse_conflict(self._message(response, limit=None))
                   or parse_conflict(self._redact(response.text or "")))
            return UpsertResult("conflict", conflict=ids, http_status=code,
                                message=self._message(response) or "conflict (HTTP 422)")
        if 400 <= code < 500 and code != 429:
            return UpsertResult("rejected", http_status=code,
                                message=self._message(response) or self._status_text(response))
        return UpsertResult("error", http_status=code, message=self._gave_up_message(response))

    def upsert_many(self, items: Iterable[tuple[K, Contact]], options: SendOptions, *,
                    concurrency: int, on_result: Callable[[K, UpsertResult], None],
                    cancel: CancelFlag | None = None,
                    watch: Callable[[UpsertResult], None] | None = None,
                    backlog: Backlog | None = None) -> None:
        """Upsert many contacts with at most ``concurrency`` requests in flight.

        ``items`` is consumed lazily (at most ``2 * concurrency`` contacts are queued at a time);
        ``on_result(key, result)`` is called in the caller's thread, in completion order, so it
        may update a progress bar or a results list without locks.  Every item taken from
        ``items`` gets exactly one ``on_result`` call, except when the run stops early:

        - ``cancel`` is set: no new request starts; requests already on the wire finish and are
          reported; queued items get no ``on_result``; then this returns normally.
        - inwise refuses the key (:class:`InwiseAuthError`) or the first answers say the address
          is wrong (:class:`InwiseAddressError`): the same, then the error is raised.
        - ``on_result`` or ``items`` raises: queued requests are cancelled, the error propagates.

        ``watch(result)`` is called in the worker thread as soon as a result is known (before it
        reaches ``on_result``), so that a ``cancel`` it sets stops the very next pick-up (an
        outage breaker); it must be thread-safe.

        ``backlog``: the caller keeps answers after ``on_result`` returns (a group commit); a new
        request goes out only while requests not yet answered plus answers not yet kept are fewer
        than ``2 * concurrency``, so a kill loses at most that many answers, as without it.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if concurrency > self.pool_size:
            log.warning("inwise: concurrency %d is above the connection pool size %d; surplus "
                        "connections will be opened and discarded (raise pool_size).",
                        concurrency, self.pool_size)
        refused: InwiseError | None = None
        halt = threading.Event()  # set when inwise refuses the key or the address is wrong

        def stopped() -> bool:
            return halt.is_set() or (cancel is not None and cancel.is_set())

        def send(contact: Contact) -> UpsertResult | None:
            # Checked when a worker picks the item up, so nothing starts once the run stops.
            if stopped():
                return None
            try:
                result = self.upsert(contact, options)
            except InwiseError:
                halt.set()  # at once, not when the caller's thread gets to it: no queued row may go out
                raise
            if watch is not None:
                watch(result)
            return result

        window = 2 * concurrency
        unkept = backlog.unkept if backlog is not None else lambda: 0
        iterator = iter(items)
        pending: dict[Future[UpsertResult | None], K] = {}
        exhausted = False
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="inwise") as pool:
            try:
                while True:
                    while not exhausted and not stopped() and len(pending) + unkept() < window:
                        try:
                            key, contact = next(iterator)
                        except StopIteration:
                            exhausted = True
                            break
                        pending[pool.submit(send, contact)] = key
                    if not pending:
                        if exhausted or stopped() or backlog is None:
                            break
                        backlog.wait_unkept_below(window)  # every answer waits for its commit
                        continue
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        key = pending.pop(future)
                        try:
                            result = future.result()
                        except CancelledError:
                            continue
                        except InwiseError as exc:  # the key or the address: every row would fail
                            if refused is None:
                                refused = exc
                                halt.set()
                            continue
                        if result is not None:
                            on_result(key, result)
            finally:
                for future in pending:
                    future.cancel()
        if refused is not None:
            raise refused
        if exhausted and not stopped() and self.address_suspected():
            raise self._address_error()  # fewer rows than it takes to be sure, all answered so

    # -- POST /contacts/batchInsert ---------------------------------------------------------------

    def batch_insert(self, contacts: Sequence[Contact], options: SendOptions, *,
                     field_numbers: Sequence[int], group_id: int | None,
                     confirmation_status: str | None = None, body: dict[str, Any] | None = None) -> BatchResult:
        """Import a chunk of contacts in one ``POST /contacts/batchInsert``, retries included.
        ``body``: ``batch_body`` of these arguments, when the caller built it already (ahead).

        inwise gives no per-row outcome (that we know of): ``ok`` means the chunk was accepted.
        Raises :class:`InwiseAuthError` when inwise refuses the key and :class:`InwiseAddressError`
        when its first answer says the address is wrong; never raises for other failures.
        """
        if body is None:
            body = batch_body(contacts, options, field_numbers=field_numbers, group_id=group_id,
                              confirmation_status=confirmation_status)
        try:
            response = self._request("POST", "/contacts/batchInsert", body)
        except requests.RequestException as exc:
            return BatchResult(ok=False, message=self._failure_message(exc))
        code = response.status_code
        self._check_key(response)
        if code == 413:  # a batch can be too large; that says nothing about the address
            return BatchResult(ok=False, http_status=code, message=(
                f"inwise refused the batch as too large ({self._status_text(response)}): "
                "lower inwise.batch_size in the mapping"))
        self._check_address(response, "POST /contacts/batchInsert", one_is_enough=True)
        if 200 <= code < 300:
            self._check_inwise(response, "POST /contacts/batchInsert")
            return BatchResult(ok=True, http_status=code, body=_json_dict(response.text))
        if 400 <= code < 500 and code != 429:
            message = self._message(response) or self._status_text(response)
            return BatchResult(ok=False, http_status=code, message=f"inwise refused the batch: {message}")
        return BatchResult(ok=False, http_status=code, message=self._gave_up_message(response))

    # -- GET /contacts ----------------------------------------------------------------------------

    def pull_new_contacts(self, *, max_pages: int | None = None, cancel: CancelFlag | None = None,
                          keep_raw: Callable[[bytes], object] | None = None) -> Iterator[FeedPage]:
        """Drain inwise's feed of newly created contacts, one page (≤ 1000 contacts) at a time.

        Each page is yielded as soon as it arrives and the next request is made only when the
        caller asks for the next page: the feed returns each contact only once, ever, so the
        caller must store a page durably before iterating on.  Stops after a page shorter than
        1000, after ``max_pages``, or before requesting a page once ``cancel`` is set (a page
        being received is completed and yielded first).

        Each page is a :class:`FeedPage`: a list of contacts in one shape whatever the shape of
        inwise's items (``wire.feed_contact``), with the answer's text as ``raw_body``; contacts
        without a readable id are kept (``"id": None``), listed in ``without_id`` and counted in
        ``feed_items_without_id``.

        Raises :class:`InwiseAuthError` when inwise refuses the key, :class:`InwiseAddressError`
        when the address is wrong, and :class:`InwiseError` when a page cannot be fetched after
        retries, or is not a list of contacts (the raw answer is then on the exception's
        ``raw_body`` so the caller can still keep it).  Pages yielded before that were already
        handed over.

        ``keep_raw(body)`` is called with the raw bytes of every 2xx answer *before* they are
        parsed, so a store can commit exactly what inwise sent, even an answer that turns out not
        to be a list of contacts; if it raises, the pull stops there (no further request).  With
        ``keep_raw`` the pages hold the items as inwise sent them (the store reads them itself);
        when ``keep_raw`` returns the list of items it decoded, the answer is not decoded again.

        Note: if an answer is lost after inwise sent it (connection dropped or read timeout),
        the retry gets the *next* contacts and the lost ones are gone from the feed; this is
        logged and counted in ``feed_answers_maybe_lost``.
        """
        pages = 0
        while (max_pages is None or pages < max_pages) and not (cancel is not None and cancel.is_set()):
            try:
                response = self._request("GET", "/contacts")
            except requests.RequestException as exc:
                self._check_feed_loss()
                raise InwiseError(said("net.feed_failed", problem=self._failure_message(exc))) from None
            self._check_feed_loss()
            code = response.status_code
            self._check_key(response)
            self._check_address(response, "GET /contacts", one_is_enough=True)
            if not 200 <= code < 300:
                raise InwiseError(said("net.feed_failed", problem=self._gave_up_message(response)))
            if keep_raw is not None:
                decoded = keep_raw(response.content)
                # the store owns the answer now and reads its items itself: only the list is needed
                # here - the one the store decoded when it returns it (each answer decoded once)
                items = decoded if isinstance(decoded, list) else parse_feed_page(response.text)
                page = None if items is None else FeedPage(items, raw_body=response.text)
            else:
                page = parse_feed(response.text)
            if page is None:
                self._check_inwise(response, "GET /contacts")  # a web page: the address, not inwise
                kept = msg("net.feed_kept_store" if keep_raw is not None else "net.feed_kept_raw")
                error = InwiseError(said("net.feed_not_list", start=repr(self._redact(response.text[:80])), kept=kept))
                error.raw_body = response.text  # type: ignore[attr-defined]
                raise error
            pages += 1
            missing = 0 if keep_raw is not None else len(page.without_id)  # with keep_raw the store reports them
            if missing:
                with self._lock:
                    self.feed_items_without_id += missing
                log.warning("inwise: %d new contact(s) in a GET /contacts page have no id; they are kept "
                            "and listed without one.", missing)
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


def _tries_text(tries: int) -> Msg:
    return msg("net.tries", n=tries)


def _json_dict(text: str) -> dict[str, Any] | None:
    data = parse_json(text)
    if data is None or isinstance(data, dict):
        return data
    return {"response": data}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
