"""Output that never crashes on the console it is given.

A scheduled task on Windows writes to a file or a pipe in cp1252; ``LANG=C`` gives an ASCII
stream; a terminal is usually UTF-8.  Our messages contain ``✓ ✗ · → …`` and Hebrew names, and a
``UnicodeEncodeError`` after the contacts were sent would turn a good run into a failed one.

Everything the CLI prints goes through this module:

- :func:`plain` replaces what an encoding cannot show by a plain equivalent: ``✓`` -> ``OK``,
  ``✗`` -> ``X``, ``·`` -> ``-``, ``→`` -> ``->``, ``…`` -> ``...``, other symbols by an ASCII
  approximation, accented letters without their accents, and only as a last resort ``?`` (for
  letters such as Hebrew on a cp1252 or ASCII stream).  Text the stream can show is untouched.
- :func:`make_console` builds the rich ``Console`` on a stream that applies :func:`plain` to
  everything written (rich already draws tables with ASCII borders on a non-UTF-8 stream).
- :func:`protect_std_streams` makes ``sys.stdout``/``sys.stderr`` use the same replacement as
  their error handler, so ``click.echo``, usage errors and tracebacks cannot crash either.
- :func:`dumps_json` / :func:`echo_json`: ``--json`` output is valid JSON on any stream, UTF-8
  where the stream is UTF-8, ASCII with ``\\uXXXX`` escapes otherwise (no replacement at all).

Only what is *printed* changes: the values written into the workbook are never touched.
"""
from __future__ import annotations

import codecs
import io
import json
import sys
import unicodedata
from collections.abc import Callable
from typing import IO, Any, cast

from rich.console import Console
from rich.text import Text

__all__ = [
    "ERROR_HANDLER",
    "SafeStream",
    "dumps_json",
    "echo",
    "echo_json",
    "is_utf8",
    "locale_hint",
    "make_console",
    "PlainConsole",
    "plain",
    "protect_std_streams",
]

#: Name of the codec error handler registered by this module (usable as ``errors=`` anywhere).
ERROR_HANDLER = "sheets_connector.plain"

# Plain equivalents of the symbols our own messages use, and of common look-alikes.
_SYMBOLS: dict[str, str] = {
    "\u2713": "OK", "\u2714": "OK", "\u2705": "OK", "\u2611": "OK",  # ✓ ✔ ✅ ☑
    "\u2717": "X", "\u2718": "X", "\u274c": "X", "\u2612": "X", "\u00d7": "x",  # ✗ ✘ ❌ ☒ ×
    "\u00b7": "-", "\u2022": "-", "\u2023": "-", "\u2043": "-", "\u25cf": "-", "\u22c5": "-",  # · • ‣ ⁃ ● ⋅
    "\u2192": "->", "\u21d2": "=>", "\u2190": "<-", "\u21d0": "<=", "\u2194": "<->",  # → ⇒ ← ⇐ ↔
    "\u2026": "...",  # …
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u05f3": "'", "\u05f4": '"',  # Hebrew geresh and gershayim (as in ת"ז)
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2264": "<=", "\u2265": ">=", "\u2260": "!=", "\u2248": "~", "\u00b1": "+/-",
    "\u26a0": "!", "\u2139": "i",  # ⚠ ℹ
    "\u20aa": "ILS", "\u20ac": "EUR", "\u00a3": "GBP", "\u00a9": "(c)", "\u00ae": "(R)", "\u2122": "(TM)",
    "\u00b0": " deg", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u00ad": "",
}
# Invisible marks (direction marks, zero-width characters): nothing to show.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u061c"} | {
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def _box(ch: str) -> str | None:
    """Box-drawing characters (tables) -> ASCII lines."""
    if not "\u2500" <= ch <= "\u257f":
        return None
    name = unicodedata.name(ch, "")
    if "HORIZONTAL" in name and "VERTICAL" not in name and "AND" not in name:
        return "-"
    if "VERTICAL" in name and "HORIZONTAL" not in name and "AND" not in name:
        return "|"
    return "+"


def _approximate(ch: str, encoding: str) -> str:
    """One character the encoding cannot show -> the plainest text that it can."""
    if ch in _SYMBOLS:
        return _SYMBOLS[ch]
    if ch in _INVISIBLE:
        return ""
    box = _box(ch)
    if box is not None:
        return box
    # é -> e, ﬁ -> fi, fullwidth Ａ -> A: the compatibility decomposition without combining marks
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if decomposed and decomposed != ch and _encodable(decomposed, encoding):
        return decomposed
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "
    if category == "Pd":
        return "-"
    if category in ("Pi", "Pf"):
        return '"'
    if category in ("Cc", "Cf", "Mn", "Me"):
        return ""
    name = unicodedata.name(ch, "")
    if "ARROW" in name:
        return "<-" if "LEFT" in name else "->"
    if "CHECK MARK" in name:
        return "OK"
    if "BULLET" in name or "DOT OPERATOR" in name:
        return "-"
    return "?"


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    except LookupError:  # an encoding Python does not know: be safe
        return text.isascii()
    return True


def _handler(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    encoding = exc.encoding or "ascii"
    bad = exc.object[exc.start: exc.end]
    out = []
    for ch in bad:
        rep = _approximate(ch, encoding)
        out.append(rep if _encodable(rep, encoding) else "?")
    return "".join(out), exc.end


codecs.register_error(ERROR_HANDLER, _handler)


def plain(text: str, encoding: str | None) -> str:
    """``text`` with what ``encoding`` cannot show replaced by plain equivalents (see module doc)."""
    enc = encoding or "utf-8"
    try:
        text.encode(enc)
        return text
    except UnicodeEncodeError:
        return text.encode(enc, ERROR_HANDLER).decode(enc)
    except LookupError:
        return text.encode("ascii", ERROR_HANDLER).decode("ascii")


def _encoding_of(stream: object) -> str:
    return getattr(stream, "encoding", None) or "utf-8"


def is_utf8(stream: object) -> bool:
    """Whether the stream writes UTF-8 (so any text can be written as it is)."""
    try:
        return codecs.lookup(_encoding_of(stream)).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


class SafeStream(io.TextIOBase):
    """A text stream over the *current* ``sys.stdout`` (or ``sys.stderr``) that never raises on
    encoding: every write goes through :func:`plain` for that stream's encoding.

    The stream is looked up on every write so that a console made once follows redirections
    (pytest's capture, click's ``CliRunner``).  Without a stream at all (``pythonw`` on
    Windows, a task without a console) writes go nowhere.
    """

    def __init__(self, get_stream: Callable[[], IO[str] | None]) -> None:
        super().__init__()
        self._get = get_stream

    @classmethod
    def stdout(cls) -> SafeStream:
        return cls(lambda: sys.stdout)

    @classmethod
    def stderr(cls) -> SafeStream:
        return cls(lambda: sys.stderr)

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read by rich to pick ASCII borders
        return _encoding_of(self._get())

    def write(self, text: str) -> int:
        stream = self._get()
        if stream is None:
            return len(text)
        stream.write(plain(text, _encoding_of(stream)))
        return len(text)

    def flush(self) -> None:
        stream = self._get()
        if stream is not None:
            stream.flush()

    def isatty(self) -> bool:
        stream = self._get()
        try:
            return bool(stream is not None and stream.isatty())
        except (ValueError, OSError):  # a closed stream
            return False

    def fileno(self) -> int:
        stream = self._get()
        if stream is None:
            raise io.UnsupportedOperation("no stream")
        return stream.fileno()

    def writable(self) -> bool:
        return True


class PlainConsole(Console):
    """A rich ``Console`` that replaces what its stream cannot encode *before* measuring text,
    so table columns stay aligned when ``✓`` becomes ``OK``; its stream (a :class:`SafeStream`)
    catches anything that reaches it another way."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(plain(text, self.encoding), **kwargs)


def make_console(*, stderr: bool = False, **options: Any) -> Console:
    """The rich ``Console`` the CLI prints with: on stdout (or stderr), never crashing on
    encoding.  ``options`` go to ``Console`` (defaults: no highlighting, soft wrap)."""
    options.setdefault("highlight", False)
    options.setdefault("soft_wrap", True)
    stream = SafeStream.stderr() if stderr else SafeStream.stdout()
    return PlainConsole(file=cast(IO[str], stream), **options)  # a TextIOBase is a text IO


def protect_std_streams() -> None:
    """Make ``sys.stdout`` and ``sys.stderr`` replace what they cannot encode (see :func:`plain`)
    instead of raising.  Call once at the start of the command line; idempotent."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors=ERROR_HANDLER)
        except (ValueError, OSError, io.UnsupportedOperation):  # a stream that cannot change: leave it
            pass


def locale_hint(error: BaseException) -> str | None:
    """A plain message for a ``UnicodeEncodeError`` that comes from the system's character set
    (a C/ASCII locale without UTF-8 cannot even spell a Hebrew file name), else ``None``.
    Output cannot raise it any more (see :func:`protect_std_streams`), so what is left is paths."""
    if not isinstance(error, UnicodeEncodeError):
        return None
    where = error.object if isinstance(error.object, str) else ""
    return (
        f"This computer's language setting uses the {error.encoding} character set, which cannot spell "
        f"a name this tool needs ({where!r}). Run the command with the environment variable PYTHONUTF8=1 "
        "(or LANG=C.UTF-8), or rename the file or folder with plain letters, and try again."
    )


def dumps_json(data: Any, *, stream: object = None, indent: int | None = 2) -> str:
    """``data`` as JSON text for ``stream`` (default stdout): UTF-8 characters as they are when
    the stream is UTF-8, ``\\uXXXX`` escapes otherwise, so it is valid JSON either way."""
    target = sys.stdout if stream is None else stream
    return json.dumps(data, ensure_ascii=not is_utf8(target), indent=indent, default=str)


def echo_json(data: Any, *, indent: int | None = 2) -> None:
    """Print ``data`` as JSON on stdout (see :func:`dumps_json`)."""
    stream = sys.stdout
    if stream is None:
        return
    stream.write(dumps_json(data, stream=stream, indent=indent) + "\n")
    stream.flush()


def echo(text: str, *, err: bool = False) -> None:
    """Print one line of plain text on stdout (or stderr), replacing what it cannot show."""
    stream = SafeStream.stderr() if err else SafeStream.stdout()
    stream.write(text + "\n")
