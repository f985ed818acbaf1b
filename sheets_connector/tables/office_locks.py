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
        by = f" (by {user})" if user else ""
        return (f"{name} is open in LibreOffice{by}; close it and run again. If it is not open anywhere, "
                f"delete the leftover lock file {lo} and run again.")
    owner = excel_owner_file(path)
    if owner is not None:
        user = excel_owner(owner)
        by = f" (by {user})" if user else ""
        return (f"{name} is open in Excel{by}; close it and run again. If it is not open anywhere, "
                f"delete the leftover lock file {owner} and run again.")
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
        return (f"This tool cannot write to {path}: the file is read-only or you are not allowed to change it. "
                "Make it writable (Windows: right-click > Properties, untick 'Read-only'; macOS: Get Info > "
                "Sharing & Permissions) and run again.")
    owner = excel_owner_file(path)
    user = excel_owner(owner) if owner is not None else ""
    who = f"Excel (by {user})" if user else "Excel or another program (on this computer or, for a shared folder, another one)"
    when = "when the results were to be saved" if saving else "so the results could not be saved"
    return (f"{name} is open in {who}: the computer refused to let this tool change it {when}. "
            "Close the workbook everywhere it is open and run again.")


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
