"""The workbook file itself: is it an .xlsx this tool can read, could a save replace it, and
the swap itself (a new file written next to it, then ``os.replace``d in or kept as a copy).

Every problem is a ``SourceError`` in plain words: what the file is instead (CSV, .xls, .ods,
a password-protected or damaged file), who has it open (Excel's and LibreOffice's lock files),
which permission is missing, and what to do about it.
"""
from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

import olefile
import python_calamine
from python_calamine import CalamineWorkbook

from ...errors import SourceError, WorkbookNotFound
from ...fsutil import fsync_dir
from ...messages.catalog import Msg, error_words, msg, said
from ..office_locks import lock_file_message, refused_message
from .package import Package, PackageError, without_other_sheets

COPY_SUFFIX = " (with sync results)"
SUPPORTED_EXTENSIONS = (".xlsx", ".xlsm", ".xltx", ".xltm")
MACRO_MAIN_TYPES = {
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
TEMPLATE_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}


#: Room a save needs besides the new copy of the workbook: its growth by the results, the results
#: CSV kept if the save fails, a rewrite's temporary files.
SAVE_MARGIN = 4 * 1024 * 1024


def save_room(size: int) -> int:
    """Bytes the workbook's folder must have free before a run sends anything: the save writes
    a whole new copy next to the file (then swaps it in), which may grow by the results."""
    return size + size // 2 + SAVE_MARGIN


class NoRoom(Exception):
    """The folder cannot take ``save_room`` bytes; ``str()`` says what was found."""


def _mb(n: int) -> str:
    return f"{max(n, 0) / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(n, 0) / 1024:.0f} KB"


def _check_room(fd: int, folder: Path, needed: int) -> None:
    """Prove the folder can take ``needed`` bytes: free space as the disk reports it, then the
    probe file is given that size for real (a quota or a file-size limit shows only then)."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise NoRoom(said("xlsx.disk_free", free=_mb(free)))
    try:
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, needed)  # allocated, not written: instant on most file systems
        else:  # Windows: extending a file allocates its clusters
            os.ftruncate(fd, needed)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", -1)):
            raise NoRoom(said("xlsx.write_failed", why=e.strerror or str(e))) from None
        if e.errno not in (errno.EINVAL, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", -1)):
            raise


class WorkbookFile:
    """The file at ``path``; writes go to the real file behind a symlink (``target``), so the
    link stays a link."""

    def __init__(self, path: Path, written_as: str | None = None) -> None:
        self.path = path
        self.written_as = written_as  # the path as the user wrote it in the mapping, for messages
        self.target = Path(os.path.realpath(path))
        self._crc_checked: tuple[int, ...] | None = None  # the file's identity when check() last verified every part's CRC

    def check(self) -> str:
        """Check up front that the path is a readable .xlsx; return its main content type."""
        path, name = self.path, self.path.name
        try:
            st = os.stat(self.target)
        except FileNotFoundError:
            raise WorkbookNotFound(self._not_found_message()) from None
        except PermissionError:
            raise SourceError(said("xlsx.not_allowed", path=str(path))) from None
        if stat.S_ISDIR(st.st_mode):
            raise SourceError(said("xlsx.folder", path=str(path)))
        if st.st_size == 0:
            raise SourceError(said("xlsx.empty", path=str(path)))
        try:
            with open(self.target, "rb") as fh:
                head = fh.read(512)
        except PermissionError:
            raise SourceError(said("xlsx.not_allowed_open", path=str(path))) from None
        except OSError as e:
            raise SourceError(said("xlsx.cannot_read", path=str(path), why=e.strerror or str(e))) from None

        save_as = msg("xlsx.save_as")
        if head.startswith(olefile.MAGIC):
            self._check_ole(save_as)
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            ext = path.suffix.lower()
            sniff = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
            if sniff.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in sniff[:300]:
                what = msg("xlsx.what_html")
            elif sniff.startswith(b"<?xml"):
                what = msg("xlsx.what_xml")
            elif ext == ".csv" or (b"\x00" not in head and (b"," in head or b";" in head or b"\t" in head)):
                what = msg("xlsx.what_csv_named", ext=ext) if ext in SUPPORTED_EXTENSIONS else msg("xlsx.what_csv")
            else:
                what = msg("xlsx.what_other")
            raise SourceError(said("xlsx.is_what", name=name, what=what, save_as=save_as))
        try:
            zf = zipfile.ZipFile(self.target)
        except zipfile.BadZipFile as e:
            raise SourceError(self.damaged(str(e))) from None
        with zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                mime = zf.read("mimetype").decode("ascii", "replace").strip()
                if "opendocument.spreadsheet" in mime:
                    raise SourceError(said("xlsx.ods", name=name, save_as=save_as))
                raise SourceError(said("xlsx.odf", name=name, mime=mime, save_as=save_as))
            if "xl/workbook.bin" in names:
                raise SourceError(said("xlsx.xlsb", name=name, save_as=save_as))
            if "word/document.xml" in names or "ppt/presentation.xml" in names:
                raise SourceError(said("xlsx.word" if "word/document.xml" in names else "xlsx.powerpoint", name=name))
            try:
                pkg = Package(zf)
                content_type = pkg.content_type(pkg.main) or ""
                # CRC check of every part (skipped for huge files: read() will notice), once per
                # version of the file: a run checks it before reading, writing and saving
                seen = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                bad = zf.testzip() if st.st_size < 50_000_000 and seen != self._crc_checked else None
            except (PackageError, zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise SourceError(self.damaged(str(e))) from None
            if bad is not None:
                raise SourceError(self.damaged(msg("xlsx.part_corrupt", part=bad)))
            if "spreadsheetml" not in content_type and "ms-excel" not in content_type:
                raise SourceError(said("xlsx.office_other", name=name))
        self._crc_checked = seen
        return content_type

    def _check_ole(self, save_as: Msg) -> None:
        name = self.path.name
        try:
            with olefile.OleFileIO(str(self.target)) as ole:
                streams = {"/".join(s).lower() for s in ole.listdir(streams=True, storages=True)}
        except OSError:
            raise SourceError(said("xlsx.ole_unreadable", name=name, save_as=save_as)) from None
        if "encryptedpackage" in streams:
            raise SourceError(said("xlsx.password", name=name))
        if "workbook" in streams or "book" in streams:
            raise SourceError(said("xlsx.xls", name=name, save_as=save_as))
        raise SourceError(said("xlsx.ole_other", name=name, save_as=save_as))

    def unreadable(self, detail: str | Msg) -> str:
        """For a file whose zip is complete (``check`` passed) but that this tool cannot read:
        it is not damaged, and copying it again would not help."""
        return said("xlsx.unreadable", name=self.path.name, detail=detail)

    def damaged(self, detail: str | Msg) -> str:
        return said("xlsx.damaged", name=self.path.name, detail=detail)

    def _not_found_message(self) -> str:
        folder = self.path.parent
        written = msg("err.looked_for", written=self.written_as, path=str(self.path)) \
            if self.written_as and self.written_as != str(self.path) else str(self.path)
        if not folder.is_dir():
            return said("err.no_workbook", path=written, folder=msg("err.no_folder", folder=str(folder)))
        try:
            found = sorted(p.name for p in folder.iterdir()
                           if p.suffix.lower() in SUPPORTED_EXTENSIONS and not p.name.startswith(("~$", ".~lock.")))
        except OSError:
            found = []
        if found:
            shown = ", ".join(found[:10])
            files = msg("err.folder_more", shown=shown, n=len(found) - 10) if len(found) > 10 else shown
            return said("err.no_workbook", path=written, folder=msg("err.folder_files", folder=str(folder), files=files))
        return said("err.no_workbook", path=written, folder=msg("err.folder_empty", folder=str(folder)))

    def lock_message(self) -> str | None:
        """The message for a lock file left by LibreOffice or Excel next to the file, if any."""
        return lock_file_message(self.path)

    def check_writable(self) -> str:
        """Raise SourceError now if a save could not replace the file later; return its main
        content type (as ``check``)."""
        content_type = self.check()
        message = self.lock_message()
        if message:
            raise SourceError(said("err.nothing_sent", message=message))
        try:
            os.close(os.open(self.target, os.O_RDWR | getattr(os, "O_BINARY", 0)))  # opened for writing, nothing written
        except PermissionError:  # read-only, or (Windows) held open by Excel even without a ~$ file
            raise SourceError(said("err.nothing_sent", message=refused_message(self.path, saving=False))) from None
        folder = self.target.parent
        needed = save_room(self.target.stat().st_size)
        try:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".sheets-connector-", suffix=".probe")
            try:
                _check_room(fd, folder, needed)
            finally:
                os.close(fd)
                os.unlink(probe)
        except NoRoom as e:
            raise SourceError(said("xlsx.no_room", folder=str(folder), name=self.path.name, needed=_mb(needed),
                                   size=_mb(self.target.stat().st_size), found=error_words(e))) from None
        except PermissionError:
            raise SourceError(said("xlsx.folder_read_only", folder=str(folder), name=self.path.name)) from None
        except OSError as e:
            raise SourceError(said("xlsx.folder_write", folder=str(folder), why=e.strerror or str(e))) from None
        return content_type

    # ---- saving: a new file is written next to it, then swapped in (or kept as a copy)

    def fingerprint(self) -> tuple[int, int]:
        st = os.stat(self.target)
        return st.st_size, st.st_mtime_ns

    def check_unchanged(self, since: tuple[int, int] | None) -> None:
        """Raise SourceError if the file changed since ``fingerprint()`` gave ``since``."""
        if since is not None and self.fingerprint() != since:
            raise SourceError(said("xlsx.changed", name=self.path.name))

    def temp_path(self) -> Path:
        """A new empty file in the same folder, for the workbook being written."""
        folder = self.target.parent
        try:
            fd, name = tempfile.mkstemp(dir=folder, prefix=f".{self.target.stem}.", suffix=".sheets-connector.tmp")
        except PermissionError:
            raise SourceError(said("xlsx.folder_read_only_short", folder=str(folder), name=self.path.name)) from None
        os.close(fd)
        return Path(name)

    def adopt_permissions(self, tmp: Path) -> None:
        """Give ``tmp`` the file's permission bits (and owner, where allowed)."""
        st = os.stat(self.target)
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except (OSError, AttributeError):
            pass  # only possible as root/owner; the mode bits are what matters

    def replace_with(self, tmp: Path) -> None:
        """Swap ``tmp`` in for the file, atomically."""
        try:
            os.replace(tmp, self.target)
        except PermissionError:  # Windows: Excel opened the workbook while the sync ran
            raise SourceError(said("err.file_unchanged", message=refused_message(self.path, saving=True))) from None
        fsync_dir(self.target.parent)

    def keep_as_copy(self, tmp: Path) -> Path:
        """Move ``tmp`` to ``<stem> (with sync results)<ext>`` next to the file (never overwriting)."""
        folder, stem, ext = self.path.parent, self.path.stem, self.path.suffix
        for n in range(1, 1000):
            candidate = folder / f"{stem}{COPY_SUFFIX}{'' if n == 1 else f' {n}'}{ext}"
            try:
                os.link(tmp, candidate)  # never overwrites: fails if the name is taken
            except FileExistsError:
                continue
            except OSError:  # no hard links on this file system
                if candidate.exists():
                    continue
                os.replace(tmp, candidate)
                fsync_dir(folder)
                return candidate
            os.unlink(tmp)
            fsync_dir(folder)
            return candidate
        raise SourceError(said("xlsx.no_copy_name", path=str(self.path)))


def open_book(path: Path) -> CalamineWorkbook:
    """calamine's workbook; one with an Excel 4 macro sheet or a dialog sheet (which calamine
    refuses whole) is read from a copy in memory that lists only its worksheets and charts."""
    try:
        return CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise
    except (python_calamine.CalamineError, OSError, ValueError) as e:
        error = e
    try:
        with zipfile.ZipFile(path) as zf:
            copy = without_other_sheets(zf)
        if copy is not None:
            return CalamineWorkbook.from_filelike(io.BytesIO(copy))
    except (PackageError, zipfile.BadZipFile, python_calamine.CalamineError, OSError, ValueError):
        pass
    raise error
