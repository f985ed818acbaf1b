"""Paths in the mapping as office users write them, on Windows, macOS and Linux.

People copy a path from Windows Explorer (``C:\\Users\\dana\\Documents\\אנשי קשר\\Contacts.xlsx``),
write ``data\\Contacts.xlsx`` relative to the mapping, use ``~`` for their home folder, and
share one mapping between a Windows PC and a Mac.  :func:`resolve_user_path` turns what they
wrote into a path on this computer:

- ``~`` and ``~\\...`` are the home folder, on every system;
- a relative path is relative to the mapping file's folder;
- backslashes are folder separators on every system (on macOS/Linux they are turned into
  ``/``, unless a file with the backslash in its name really exists);
- a Windows drive or network path (``C:\\...``, ``\\\\server\\share\\...``) cannot exist on macOS
  or Linux: that is a ``ConfigError`` that shows the path as written and what to write instead;
- a tab or line break inside a path comes from YAML double quotes (``"D:\\new\\table.xlsx"``
  reads ``\\n`` and ``\\t`` as escapes): a ``ConfigError`` that says to use single quotes.

Spaces and non-Latin folder names (Hebrew) need nothing special.  Messages quote the path as
the user wrote it (``written``), next to where it was looked for.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path, PureWindowsPath

from .errors import ConfigError

__all__ = ["resolve_user_path"]

_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\x00": "\\0"}


def resolve_user_path(written: str, base_dir: Path) -> Path:
    """The path on this computer for a path written in the mapping (see the module docstring).

    Raises ``ConfigError`` for a path that cannot exist here, with the path as written.
    """
    text = written.strip()
    bad = next((c for c in text if c in _ESCAPES or ord(c) < 32), None)
    if bad is not None:
        fixed = "".join(_ESCAPES.get(c, c) for c in text)
        raise ConfigError(
            f"The path '{fixed}' in the mapping has a {_describe(bad)} in it: in double quotes, YAML reads "
            f"{_ESCAPES.get(bad, 'a backslash')} as one. Put Windows paths in single quotes (path: '{fixed}') "
            "or in no quotes at all."
        )
    if sys.platform == "win32":  # both separators, drives and ~ are native there
        p = Path(os.path.expanduser(text))
        return p if p.is_absolute() else base_dir / p
    win = PureWindowsPath(text)
    if win.drive:  # C:\... or \\server\share\...
        raise ConfigError(
            f"The path '{text}' in the mapping is a Windows path ({win.drive}), which does not exist on this computer. "
            "Write the path to the file as it is here: relative to the mapping file (for example "
            f"'{win.name}' when the file is next to the mapping) or from the top of this computer's folders "
            f"(for example '/Users/you/Documents/{win.name}' on a Mac)."
        )
    literal = base_dir / os.path.expanduser(text)
    if "\\" in text and not literal.exists():
        text = text.replace("\\", "/")
    p = Path(os.path.expanduser(text))
    return p if p.is_absolute() else base_dir / p


def _describe(ch: str) -> str:
    return {"\n": "line break", "\r": "line break", "\t": "tab"}.get(ch, f"control character (U+{ord(ch):04X})")
