"""A throwaway PostgreSQL server (initdb + pg_ctl in a temporary folder): for the tests and the
benchmark, as the sandbox and the Sheets emulator are for inwise and Google.

The server binaries come from the machine (Debian's ``postgresql`` package puts them in
/usr/lib/postgresql/<version>/bin; ``.ci/run`` installs it when missing); without them
``LocalPostgres()`` raises RuntimeError saying so.  As root, the cluster runs as the
``postgres`` user (initdb refuses root).  The port: PostgreSQL cannot be asked for "any free
port", so one is drawn at random and the start retried on another when it is taken; the unix
socket lives in the cluster's own folder.  Each test gets its own database (``new_database``).
``fsync=off`` makes it fast and loses nothing when the server is killed (the OS keeps what it
wrote); commits stay synchronous, so ``kill()`` (an immediate stop) loses no committed work.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

START_ATTEMPTS = 8


def find_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("The PostgreSQL server binaries (initdb, pg_ctl) are missing: install them "
                       "(apt-get install -y postgresql); .ci/run does so on a clean machine.")


class LocalPostgres:
    def __init__(self) -> None:
        self.bin = find_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="sc-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self._as, str(self.bin / tool), *args], capture_output=True, text=True,
                              check=check, timeout=120)

    def start(self) -> None:
        """Start the server (on its port if it had one, else on a free one drawn at random)."""
        ports = [self.port] if self.port else [random.randint(20000, 60000) for _ in range(START_ATTEMPTS)]
        for port in ports:
            options = (f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c full_page_writes=off -c max_connections=200")
            done = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w",
                             "-t", "60", "start", check=False)
            if done.returncode == 0:
                self.port = port
                return
        log = (self.dir / "log").read_text(errors="replace")[-2000:] if (self.dir / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{log}")

    def kill(self) -> None:
        """Stop the server at once (as a crash would: connections cut, no shutdown checkpoint)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
