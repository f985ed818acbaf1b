"""The staff's language of a mapping file that could not be loaded (yet).

Errors raised before a mapping is read - a file init will not overwrite, a mapping with a YAML
mistake or a wrong key - are said in the language the file asks for, when its text shows it:
a top-level ``language: he`` / ``language: en`` line (found by its words, so a file YAML cannot
parse still tells), else Hebrew when the columns it names are Hebrew headers (the file was
written for a Hebrew sheet: ``init`` writes ``language: he`` for those), else English, the
mapping's default.  A file that cannot be read at all is said in English.
"""
from __future__ import annotations

import os
import re

_KEY = re.compile(r"""^language\s*:\s*["']?(he|en)["']?\s*(?:#.*)?$""", re.M | re.I)
_HEBREW_VALUE = re.compile(r"^[ \t]*[^#\n]*:[ \t]*[^#\n]*[\u05d0-\u05ea]", re.M)  # a key whose value is Hebrew


def language_in_text(text: str) -> str | None:
    """``"he"``/``"en"`` as the mapping's text says it, ``None`` when it does not say."""
    m = _KEY.search(text)
    if m:
        return m.group(1).lower()
    return "he" if _HEBREW_VALUE.search(text) else None


def mapping_language(path: str | os.PathLike[str]) -> str | None:
    """The language a mapping file asks for (see the module docstring); ``None`` if unreadable or silent."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return language_in_text(f.read(1_000_000))
    except OSError:
        return None
