"""Who holds a lock, and whether that process still lives.

A run lock is a row in the store naming its holder: this process's token (the pid, plus on
Linux the process start time, so a recycled pid is not taken for the holder) and the host.  A
holder on this host whose process is gone (killed, crashed, power cut) holds nothing: the next
run takes the lock over at once.  A holder elsewhere, or one whose liveness cannot be told,
holds the lock until its heartbeat is older than the lease (see runs.py).
"""
from __future__ import annotations

import os
import sys


def _linux_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, or None if there is no such process
    (a zombie - killed, not yet reaped - counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode()


def this_process() -> str:
    pid = os.getpid()
    if sys.platform.startswith("linux"):
        start = _linux_start(pid)
        if start is not None:
            return f"{pid}:{start}"
    return str(pid)


def process_alive(token: str) -> bool:
    """Whether the process named by ``token`` (from ``this_process``, on this host) still runs."""
    pid_text, _, start = token.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return True  # not ours to judge: the lease decides
    if sys.platform.startswith("linux") and os.path.isdir("/proc"):
        now = _linux_start(pid)
        return now is not None and (not start or now == start)
    if sys.platform == "win32":
        return _windows_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def _windows_alive(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
