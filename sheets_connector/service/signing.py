"""Stripe-style request signatures for the sheet menu's calls.

Header: ``X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the HMAC (keyed with the
spreadsheet's webhook secret, UTF-8) covers the signed text:

- POST: ``"<t>." + the raw request body`` (bytes as sent: the sheet sends ASCII-only JSON);
- GET:  ``"<t>." + the path under the service URL and its query string``, e.g.
  ``1700000000./v1/runs/latest?spreadsheet=1AbC`` (query exactly as sent, no ``?`` if empty).

More than one ``v1=`` may be sent (secret rotation); one matching is enough.  A ``t`` more than
``TOLERANCE_S`` seconds away from the server's clock is refused, and so, through a
``ReplayGuard``, is a signed text seen before within that window.

Verification tries every known secret, so it needs nothing from the (not yet trusted) body;
the caller then checks that the spreadsheet named in the body owns one of the matching
secrets.  Every comparison is constant-time (``hmac.compare_digest``).  Failures raise
``SignatureError`` whose message is for the log only, never for the client.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .store import ReplayGuard

HEADER = "X-Signature"
TOLERANCE_S = 300
MAX_SIGNATURES = 5  # v1= values looked at per request: rotation needs two
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit also takes '²', which int() refuses


class SignatureError(Exception):
    """The request is not signed by a known secret (reason for the log, never for the client)."""


def signed_text_for_get(path: str, query: str) -> bytes:
    """What a GET signs (after ``"<t>."``): the path and, if any, ``?`` + the raw query string."""
    return (path + ("?" + query if query else "")).encode("utf-8")


def digest(secret: bytes, timestamp: int, message: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode("ascii") + b"." + message, hashlib.sha256).hexdigest()


def sign(secrets: str | bytes | Iterable[str | bytes], message: bytes, timestamp: int) -> str:
    """The ``X-Signature`` value for ``message`` at ``timestamp``; several secrets give several v1=."""
    if isinstance(secrets, (str, bytes)):
        secrets = [secrets]
    parts = [f"t={timestamp}"]
    parts += [f"v1={digest(_key(s), timestamp, message)}" for s in secrets]
    return ",".join(parts)


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def parse_header(value: str | None) -> tuple[int, list[str]]:
    """``t`` and the ``v1`` values of a header; unknown schemes (``v0=``...) are ignored."""
    if not value or len(value) > 2048:
        raise SignatureError("missing or oversized signature header")
    timestamp: int | None = None
    v1: list[str] = []
    for part in value.split(","):
        key, sep, val = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed signature header")
        if key == "t":
            if timestamp is not None or not _SECONDS.fullmatch(val):
                raise SignatureError("malformed timestamp")
            timestamp = int(val)
        elif key == "v1" and _HEX64.fullmatch(val.lower()):
            v1.append(val.lower())  # anything else cannot match (and compare_digest wants ASCII)
    if timestamp is None or not v1:
        raise SignatureError("signature header lacks t= or v1=")
    return timestamp, v1[:MAX_SIGNATURES]


@dataclass(frozen=True)
class Verified:
    timestamp: int
    matched: frozenset[bytes]  # the known secrets that signed this request
    replay_key: str  # identifies the signed text (same t and body/path = same key)


def verify(
    header: str | None,
    message: bytes,
    secrets: Iterable[bytes],
    *,
    now: float,
    tolerance_s: int = TOLERANCE_S,
    replay_guard: ReplayGuard | None = None,
) -> Verified:
    """Check a request's signature; raises ``SignatureError`` unless a known secret signed it.

    With ``replay_guard``, a signed text already seen within the tolerance window is refused
    (checked only after the signature is good, so junk cannot fill the guard).
    """
    timestamp, given = parse_header(header)
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError("timestamp outside the tolerance")
    matched = set()
    for secret in secrets:
        expected = digest(secret, timestamp, message)
        # every candidate is compared (no early exit), each in constant time
        if any(hmac.compare_digest(expected, g) for g in given):
            matched.add(secret)
    if not matched:
        raise SignatureError("no signature matches a known secret")
    key = hashlib.sha256(str(timestamp).encode("ascii") + b"." + message).hexdigest()
    if replay_guard is not None and replay_guard.seen(key, expires_at=timestamp + tolerance_s + 1):
        raise SignatureError("replayed signature")
    return Verified(timestamp=timestamp, matched=frozenset(matched), replay_key=key)
