"""Is the workbook open in Excel or LibreOffice, and by whom?  Plain-words messages for it.

Two kinds of evidence, from the most to the least precise:

- **Owner / lock files** next to the workbook.  LibreOffice writes ``.~lock.NAME#`` (a CSV line
  whose first field is the user's name); Excel writes ``~$NAME`` (the user name at the start,
  see :func:`excel_owner`), shortening long names by dropping their first two letters.
  Found before anything is sent, the user is told who has it open.
- **The operating system refusing to write.**  Excel on Windows holds an exclusive lock on an
  open workbook: opening it for writing, or renaming another file over it, fails with
  ``PermissionError`` (a sharing violation).  On a network drive the ``~$`` owner file is often
  missing or hidden, so this is the only sign.  A read-only file fails the same way, so
  :func:`refused_message` tells them apart from the file's mode and ``os.access``: writable on
  paper but refused in practice means another program holds it.

macOS Excel also writes ``~$`` owner files but does not lock the workbook itself; there the
owner file is the evidence.  Messages name the file and the user when known, and say what to
do; the caller adds whether anything was sent.
"""
from __future__ import annotations

import os
import re
import stat
import struct
from pathlib import Path

from ..messages.catalog import msg, said

__all__ = ["excel_owner", "lock_file_message", "refused_message"]


def lock_file_message(path: Path) -> str | None:
    """The message for a LibreOffice or Excel lock file next to ``path``, if there is one."""
    folder, name = path.parent, path.name
    lo = folder / f".~lock.{name}#"
    if lo.exists():
        user = ""
        try:
            fields = re.split(r"(?<!\\),", lo.read_text("utf-8", "replace"))
            user = (fields[0] or (fields[1] if len(fields) > 1 else "")).replace("\\,", ",").strip()
        except OSError:
            pass
        return said("lock.open_in", name=name, app="LibreOffice", by=msg("lock.by", user=user) if user else "",
                    lock=str(lo))
    owner = excel_owner_file(path)
    if owner is not None:
        user = excel_owner(owner)
        return said("lock.open_in", name=name, app="Excel", by=msg("lock.by", user=user) if user else "",
                    lock=str(owner))
    return None


def excel_owner_file(path: Path) -> Path | None:
    """Excel's ``~$`` owner file for ``path``, if present."""
    name = path.name
    candidates = [path.parent / f"~${name}"]
    if len(path.stem) >= 8:  # Office shortens long names: ~$ replaces the first two letters
        candidates.append(path.parent / f"~${name[2:]}")
    return next((c for c in candidates if c.exists()), None)


def refused_message(path: Path, *, saving: bool) -> str:
    """The message for a ``PermissionError`` on opening ``path`` for writing (``saving=False``)
    or on renaming the saved copy over it (``saving=True``).

    Read-only or not ours to write: say so.  Otherwise another program holds the file, which on
    Windows is almost always Excel (named with its user when the owner file tells us).
    """
    name = path.name
    if _read_only(path):
        return said("lock.read_only", path=str(path))
    owner = excel_owner_file(path)
    user = excel_owner(owner) if owner is not None else ""
    who = msg("lock.who_excel", user=user) if user else msg("lock.who_any")
    when = msg("lock.when_saving") if saving else msg("lock.when_opening")
    return said("lock.refused", name=name, who=who, when=when)


def _read_only(path: Path) -> bool:
    """Read-only attribute (Windows) / no write bit, or not ours to write (POSIX permissions)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not mode & stat.S_IWUSR or not os.access(path, os.W_OK)


def excel_owner(owner: Path) -> str:
    """The user name Excel writes at the start of its ``~$`` owner file (best effort)."""
    try:
        data = owner.read_bytes()[:512]
    except OSError:
        return ""
    if len(data) >= 56:
        n = struct.unpack("<H", data[54:56])[0]
        raw = data[56: 56 + 2 * n]
        if 0 < n <= 100 and len(raw) == 2 * n:
            try:
                name = raw.decode("utf-16-le").strip()
                if name.isprintable():
                    return name
            except UnicodeDecodeError:
                pass
    if data and 0 < data[0] < 54 and len(data) > data[0]:
        name = data[1: 1 + data[0]].decode("cp1252", "replace").strip()
        if name.isprintable():
            return name
    return ""
