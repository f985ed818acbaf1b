"""Start ``sheets-connector`` commands as real processes, fast.

On a busy 2-core machine most of a short sync's time is the interpreter starting and importing
the connector.  The launcher keeps one interpreter that has imported it (a "zygote") and forks a
child per command: each child is an ordinary process with its own pid, signal handlers, files,
sockets and SQLite connections, running the same ``sheets_connector.cli.main`` that
``python -m sheets_connector`` runs, with its own environment, folder, stdout/stderr files and
optionally a file-size limit (a full disk).  It can be killed with SIGKILL like any other.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ZYGOTE = r"""
import json, os, sys, traceback
import sheets_connector.cli, sheets_connector.sync, sheets_connector.tables.xlsx, sheets_connector.tables.xlsx.patch
import sheets_connector.contacts, sheets_connector.inwise, sheets_connector.state, sheets_connector.sandbox


def child(req):
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        os.dup2(os.open(path, flags, 0o644), fd)
    if req.get("fsize"):
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (req["fsize"], req["fsize"]))
    sys.argv = ["sheets-connector", *req["args"]]
    code = 1
    try:
        sheets_connector.cli.main(args=req["args"], prog_name="sheets-connector")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "start":
        pid = os.fork()
        if pid == 0:
            child(req)
        reply = {"pid": pid}
    else:
        pid, status = os.waitpid(req["pid"], os.WNOHANG)
        reply = {"code": None if pid == 0 else os.waitstatus_to_exitcode(status)}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
"""


@dataclass
class Child:
    pid: int
    out: Path
    err: Path
    code: int | None = None

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")


class Launcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        self._n = 0

    def _ask(self, req: dict) -> dict:
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps(req) + "\n")
            self._proc.stdin.flush()
            return json.loads(self._proc.stdout.readline())

    def start(self, args: list[str], *, cwd: Path, env: dict[str, str], fsize: int | None = None) -> Child:
        self._n += 1
        out, err = cwd / f".run{self._n}-{os.getpid()}.out", cwd / f".run{self._n}-{os.getpid()}.err"
        pid = self._ask({"op": "start", "args": args, "cwd": str(cwd), "env": env, "out": str(out),
                         "err": str(err), "fsize": fsize})["pid"]
        return Child(pid, out, err)

    def poll(self, child: Child) -> int | None:
        if child.code is None:
            child.code = self._ask({"op": "poll", "pid": child.pid})["code"]
        return child.code

    def wait(self, child: Child, timeout: float = 120) -> int:
        end = time.monotonic() + timeout
        while (code := self.poll(child)) is None:
            if time.monotonic() > end:
                self.kill(child)
                raise TimeoutError(f"sheets-connector {child.pid} did not finish in {timeout} s")
            time.sleep(0.005)
        return code

    def kill(self, child: Child) -> None:
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.wait(child)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(10)
