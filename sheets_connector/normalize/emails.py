"""Email cells -> email-validator's normalised address (syntax only, no DNS), or why not.

What people paste around an address is cleaned first (``mailto:``, ``Name <address>``, quotes, a
trailing ``;``); email-validator alone decides validity, :func:`_email_reason` only words its refusal
for office staff.  Answers (good and bad) are cached on the cleaned text (``_email_cached``, see
``normalize.cache_info``); ``fast.known_email`` reads the same cache for clean cells.

email-validator spends two thirds of its time on the domain (UTS-46/IDNA checks of each
character) and a big list has few domains (gmail.com, walla.co.il, the company's own), so its
answer for a domain it accepted is remembered (:func:`_remember_domains`): the rest of
``validate_email`` - split, local part, the whole address's length - runs as ever for every
address, and a refused domain is asked again each time (refusals are rare; nothing about them is
kept).  A test compares the answers with and without it.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..errors import ValueProblem
from ..messages.catalog import Msg, msg
from ..tables.base import CellError
from .values import _CACHE_SIZE, _EMPTY, _ERROR_REASON, _cell_error, _is_spreadsheet_error, _Outcome, _shown, clean_text

_MAILTO = re.compile(r"^mailto:\s*", re.IGNORECASE)
_QUOTES = {'"': '"', "'": "'", "“": "”", "”": "”", "‘": "’", "„": "“", "«": "»"}
# what _unwrap_email acts on besides a leading quote: "mailto:", "<…>", "?subject=", ",;" and
# spaces at the end
_WRAPPED = re.compile(r"[:<>?,;]|\s$")

#: email-validator's answers for the domains it accepted: (domain, options) -> its result
_DOMAINS: dict[tuple[Any, ...], dict[str, Any]] = {}
_remembering = False  # True only while this module asks validate_email (see _remember_domains)


def _remember_domains() -> None:
    """Make email-validator's ``validate_email`` remember the domains it accepted, for this
    module's calls only (:func:`_validate`): any other caller in the process - pydantic, the
    benchmark's "libraries alone" - gets the library's own check every time.

    ``validate_email_domain_name`` is a pure function of the domain and its options (no DNS: that
    is the separate deliverability check, never asked here), called by ``validate_email`` through
    its module's namespace, which is where the remembering version goes.  Its answer (a dict
    ``validate_email`` only reads) is handed out as a copy; a refusal raises and is never kept;
    once ``_CACHE_SIZE`` domains are known they are forgotten.  With the library laid out
    otherwise (a later version) nothing is changed: it runs as is, only slower."""
    module = importlib.import_module("email_validator.validate_email")
    real: Callable[..., dict[str, Any]] | None = getattr(module, "validate_email_domain_name", None)
    if real is None or getattr(real, "remembers", False):
        return

    def validate_email_domain_name(domain: str, *args: Any, **options: Any) -> dict[str, Any]:
        if not _remembering:
            return real(domain, *args, **options)
        key = (domain, args, tuple(options.items()))
        known = _DOMAINS.get(key)
        if known is None:
            known = real(domain, *args, **options)
            if len(_DOMAINS) >= _CACHE_SIZE:
                _DOMAINS.clear()
            _DOMAINS[key] = known
        return dict(known)

    validate_email_domain_name.remembers = True  # type: ignore[attr-defined]
    setattr(module, "validate_email_domain_name", validate_email_domain_name)  # noqa: B010 - mypy knows no such name


_remember_domains()


def _validate(address: str) -> str:
    """email-validator's normalised address (syntax only), its domain answer remembered."""
    global _remembering
    # threads: another one may flip the flag meanwhile - then a call is remembered or not, the
    # answer is the library's either way
    _remembering = True
    try:
        return validate_email(address, check_deliverability=False).normalized
    finally:
        _remembering = False


def normalize_email(value: Any) -> str:
    """Return email-validator's normalised form of the address in a cell.

    The domain is lowercased and IDNA-normalised (an IDN domain stays in its Unicode form, as
    email-validator's ``normalized`` gives it); the part before the @ is kept as typed.  No DNS
    lookups (``check_deliverability=False``).

    Cleaned first: surrounding spaces, NBSP, invisible marks, a ``mailto:`` prefix (and any
    ``?subject=…`` after the address), quotes around the whole value, a trailing ``;`` or ``,``
    left from a pasted address list, and the display form
    ``Dana Cohen <dana@example.com>`` / ``<dana@example.com>`` (the address inside the angle
    brackets is used).

    Raises:
        ValueProblem: the value is not an email address; the message says why in plain words,
            e.g. ``invalid email "dana@": nothing after the @``.
    """
    if isinstance(value, CellError):
        raise _cell_error("email", value)
    if isinstance(value, bool) or not isinstance(value, (str, type(None))):
        shown = clean_text(value)
        raise ValueProblem("email", _shown(shown), msg("email.not_email"))
    text = clean_text(value)
    outcome = _Outcome(*_email_cached(text))
    if outcome.ok:
        return outcome.text
    raise ValueProblem("email", _shown(text), outcome.text)


def email_key(email: str) -> str:
    """Matching key for an email: the normalised address, lowercased (inwise matches emails
    case-insensitively)."""
    return clean_text(email).lower()


def _unwrap_email(text: str) -> str:
    """Strip what people paste around an address: mailto:, <…>, display names, quotes."""
    if text[:1] not in _QUOTES and not _WRAPPED.search(text):
        return text  # nothing below would change it (most cells)
    text = _MAILTO.sub("", text)
    # "Dana Cohen <dana@example.com>" or "<dana@example.com>": take what is inside the brackets.
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1 : -1].strip()
        text = _MAILTO.sub("", text)
    # mailto links may carry ?subject=…; an address has no "?" after its domain.
    if "?" in text and "@" in text.split("?", 1)[0]:
        text = text.split("?", 1)[0]
    # The whole value in quotes: "dana@example.com" / 'dana@example.com'.
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]]:
        text = text[1:-1].strip()
    # A separator left over from a pasted address list ("dana@example.com;").
    return text.rstrip(",;").rstrip()


@lru_cache(maxsize=_CACHE_SIZE)
def _email_cached(text: str) -> tuple[bool, str]:
    """_email_outcome cached (good and bad answers alike) as a plain tuple, which the cyclic
    garbage collector stops tracking (a NamedTuple it walks on every pass: 2 per row of a sheet)."""
    outcome = _email_outcome(text)
    return (outcome.ok, outcome.text)


def _email_outcome(text: str) -> _Outcome:
    """Validate one cleaned cell text."""
    if not text:
        return _Outcome(False, _EMPTY)
    if _is_spreadsheet_error(text):
        return _Outcome(False, _ERROR_REASON)
    address = _unwrap_email(text)
    try:
        normalized = _validate(address)
    except EmailNotValidError as exc:
        return _Outcome(False, _email_reason(address, str(exc)))
    return _Outcome(True, normalized)


def _email_reason(address: str, library_message: str) -> Msg:
    """Turn an email-validator refusal into everyday words.

    Only called after email-validator refused ``address``; the checks below choose the wording,
    they never decide validity.
    """
    if not address:
        return _EMPTY
    ats = address.count("@")
    if ats == 0:
        return msg("email.no_at")
    parts = [p for p in re.split(r"[\s,;]+", address) if p]
    if len(parts) > 1 and sum("@" in p for p in parts) > 1:
        return msg("email.several")
    if ats > 1:
        return msg("email.many_at")
    local, _, domain = address.partition("@")
    if not local.strip():
        return msg("email.nothing_before")
    if not domain.strip():
        return msg("email.nothing_after")
    if any(ch.isspace() for ch in address):
        return msg("email.space")
    said = library_message.lower()
    rules = (
        ("cannot end with a period", "email.ends_dot"),
        ("cannot start with a period", "email.starts_dot"),
        ("period immediately before the @", "email.dot_before_at"),
        ("period immediately after the @", "email.dot_after_at"),
        ("two periods in a row", "email.two_dots"),
        ("should have a period", "email.needs_dot"),
        ("special-use or reserved", "email.reserved"),
        ("valid top-level domain", "email.bad_ending"),
        ("too long", "email.too_long"),
        ("quoting the part before", "email.quotes"),
        ("bracketed ip address", "email.ip"),
    )
    for needle, reason in rules:
        if needle in said:
            return Msg(reason)
    if "invalid character" in said:
        listed = library_message.rsplit(": ", 1)[-1].strip().rstrip(".")
        chars = ", ".join(item.strip("'") for item in listed.split(", "))
        return msg("email.bad_chars", chars=chars)
    # Anything else: the library's own sentence, made to read like the rest.
    plain = library_message.strip().rstrip(".").replace("@-sign", "@").replace("The email address ", "")
    return msg("email.library", text=plain[:1].lower() + plain[1:]) if plain else msg("email.not_email")
