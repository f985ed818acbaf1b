"""One retry policy for every HTTP client of the connector (inwise today, Google Sheets next).

The policy is configuration, not a loop: :class:`RetryPolicy` holds the numbers (with today's
defaults), :func:`build_retry` turns them into one ``urllib3.Retry`` and :func:`mount_retry`
mounts that on a ``requests.Session``.  What is retried: connection failures, dropped
connections, read timeouts, and the answers in :data:`RETRY_STATUSES` (429 and 5xx), with
exponential backoff and jitter; a ``Retry-After`` header is honoured up to
``retry_after_max`` seconds (urllib3's own cap).  Redirects are never followed.

The mapping's ``inwise`` section sets the policy: ``retries`` and ``timeout_seconds`` (the read
timeout) as before, the rest under ``retry:`` (see :class:`RetryTuning`).
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import requests
from pydantic import BaseModel, ConfigDict, Field
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from typing_extensions import Self

#: Statuses worth retrying: rate limiting and server-side trouble.  Other 4xx are final.
RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})

#: Called each time a retry is about to happen, with the error that caused it (None for a
#: retryable status).  Not called when the retries have run out.
OnRetry = Callable[[Exception | None], None]

#: ``(method, url) -> True`` for a request that must not be repeated once it may have been
#: applied (e.g. a Sheets values:append): it is retried only after a 429 or a connection that
#: never got through, when the server surely did nothing.
NotIdempotent = Callable[[str, str], bool]


class RetryTuning(BaseModel):
    """The backoff and timeout knobs of the mapping's ``retry:`` block (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backoff_factor: float = Field(
        0.5, ge=0, le=60,
        description="Seconds: the n-th retry waits backoff_factor * 2**(n-1) (the first is immediate), "
                    "plus up to backoff_factor of random jitter.")
    backoff_max: float = Field(30, ge=0, le=600, description="Longest wait between two tries, in seconds.")
    retry_after_max: int = Field(
        60, ge=0, le=3600, description="Longest wait a server's Retry-After header may ask for, in seconds.")
    connect_timeout: float = Field(10, gt=0, le=300, description="Seconds to wait for a connection.")


class RetryPolicy(RetryTuning):
    """Everything about retries and timeouts of one HTTP client."""

    retries: int = Field(5, ge=0, le=20, description="Retries of one request (so retries + 1 tries at most).")
    read_timeout: float = Field(60, gt=0, le=600, description="Seconds to wait for an answer, per try.")

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds, as ``requests`` takes them."""
        return (self.connect_timeout, self.read_timeout)


class _Retry(Retry):
    """``urllib3.Retry`` plus a callback on every retry made, requests that must not be repeated
    once applied, and a lenient ``Retry-After``.

    An unparsable ``Retry-After`` (e.g. ``0.2``, which the sandbox sends for fast tests) falls
    back to the exponential backoff instead of failing the request.
    """

    def __init__(self, *args: Any, on_retry: OnRetry | None = None,
                 not_idempotent: NotIdempotent | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_retry = on_retry
        self.not_idempotent = not_idempotent

    def new(self, **kw: Any) -> Self:
        new = super().new(**kw)
        new.on_retry = self.on_retry
        new.not_idempotent = self.not_idempotent
        return new

    def get_retry_after(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Self:
        if self.not_idempotent is not None and method and url and self.not_idempotent(method, url):
            status = getattr(response, "status", None)
            refused = status == 429 or (error is not None and self._is_connection_error(error))
            if not refused:  # it may have been applied: give the answer (or error) back as it is
                raise MaxRetryError(_pool, url, error or ResponseError(f"not repeated: answered {status}"))
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        # Reached only when a retry will happen: an exhausted Retry raises MaxRetryError above.
        if self.on_retry is not None:
            self.on_retry(error)
        return new


def build_retry(policy: RetryPolicy, *, on_retry: OnRetry | None = None,
                allowed_methods: Collection[str] | None = None,
                not_idempotent: NotIdempotent | None = None) -> Retry:
    """The one ``urllib3.Retry`` for ``policy``.

    ``allowed_methods=None`` retries every method, POST included (right for inwise, whose
    writes are matched by email and mobile, so a repeat updates instead of duplicating); a
    client whose writes are not all idempotent passes the methods it may repeat, or names the
    requests that must not be repeated once applied with ``not_idempotent``.  The last 429/5xx
    answer is returned, not raised, when the retries run out.
    """
    n = policy.retries
    return _Retry(
        total=n, connect=n, read=n, status=n, other=n, redirect=0,
        allowed_methods=None if allowed_methods is None else frozenset(m.upper() for m in allowed_methods),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=policy.backoff_factor, backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_factor,
        respect_retry_after_header=True, retry_after_max=policy.retry_after_max,
        raise_on_status=False, raise_on_redirect=False,
        on_retry=on_retry, not_idempotent=not_idempotent,
    )


def mount_retry(session: requests.Session, policy: RetryPolicy, *, pool_maxsize: int = 10,
                on_retry: OnRetry | None = None, allowed_methods: Collection[str] | None = None,
                not_idempotent: NotIdempotent | None = None) -> HTTPAdapter:
    """Mount :func:`build_retry`'s ``Retry`` on ``session`` for http and https; returns the adapter.

    ``pool_maxsize`` connections are kept per host: at least the number of threads that share
    the session, or surplus connections are opened and thrown away.  Timeouts are not a session
    setting in ``requests``: pass ``policy.timeout`` to each request.
    """
    retry = build_retry(policy, on_retry=on_retry, allowed_methods=allowed_methods,
                        not_idempotent=not_idempotent)
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return adapter
