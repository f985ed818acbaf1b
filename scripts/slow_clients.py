"""Slow-client trial: a real ``serve`` under a flood of connections that never finish their request.

    python scripts/slow_clients.py [--connections 1100] [--seconds 30] [--fd-limit 1024] [--unguarded]

Starts ``serve`` in a child process (open files limited to ``--fd-limit``, as on a default Linux
box without ``LimitNOFILE``; a runner that finishes at once, so clicks measure the service, not a
sync), then keeps ``--connections`` connections open that send half a request head and trickle a
byte now and then (reconnecting whenever the service drops one), while ``/healthz`` is asked
twice a second and a signed click is sent every second.  Prints the answers' success and
latency, the child's peak memory, and how much it logged.  ``--unguarded`` serves with uvicorn's
plain h11 protocol for comparison.  Loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SECRET = "slow-client-trial-secret-0123456789"
SHEET = "trial-sheet"


def child(configs: Path, fd_limit: int, unguarded: bool) -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    fd_limit = fd_limit if hard == resource.RLIM_INFINITY else min(fd_limit, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
    from sheets_connector.service import guard, log
    from sheets_connector.service.server import ServeOptions, serve

    if unguarded:  # uvicorn as it comes: its own h11 protocol, no cap, asyncio's accept tracebacks
        import uvicorn

        def plain(app: Any, *, host: str, port: int, limits: Any = None, **kw: Any) -> Any:
            return uvicorn.Config(app, host=host, port=port, http="h11", log_config=None, access_log=False, **kw)

        import sheets_connector.service.server as server_module

        server_module.uvicorn_config = plain  # type: ignore[attr-defined]
        server_module.quiet_accept_errors = lambda loop: None  # type: ignore[attr-defined]
    del guard

    def runner(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"counts": {"created": 1}}

    log.configure()
    serve(ServeOptions(configs=configs, port=0), runner, on_ready=lambda url: print(url, flush=True))


async def slow_clients(host: str, port: int, n: int, stop: asyncio.Event, stats: dict[str, int]) -> None:
    async def one() -> None:
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                stats["connect_failed"] += 1
                await asyncio.sleep(0.5)
                continue
            stats["opened"] += 1
            try:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                while not stop.is_set():
                    await writer.drain()
                    try:
                        if await asyncio.wait_for(reader.read(1), 2.0) == b"":
                            break  # closed by the service: come back
                    except asyncio.TimeoutError:
                        writer.write(b"X")  # a byte of a header, every 2 s
            except OSError:
                pass
            finally:
                stats["dropped"] += 0 if stop.is_set() else 1
                writer.close()

    await asyncio.gather(*(one() for _ in range(n)))


def probe(base: str, seconds: float, out: dict[str, list[Any]]) -> None:
    import requests

    from sheets_connector.service.signing import sign

    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        try:
            status = requests.get(base + "/healthz", timeout=5).status_code
        except requests.RequestException:
            status = 0
        out["healthz"].append((status, time.monotonic() - t0))
        if i % 2 == 0:
            body = json.dumps({"spreadsheet_id": SHEET, "worksheet": "Contacts", "nonce": str(i)}).encode()
            t0 = time.monotonic()
            try:
                status = requests.post(base + "/v1/sync", data=body, timeout=5, headers={
                    "Content-Type": "application/json", "X-Signature": sign(SECRET, body, int(time.time()))}).status_code
            except requests.RequestException:
                status = 0
            out["click"].append((status, time.monotonic() - t0))
        i += 1
        time.sleep(max(0.0, 0.5 - (time.monotonic() - t0)))


def summary(name: str, answers: list[tuple[int, float]], good: set[int]) -> str:
    ok = [ms for status, ms in answers if status in good]
    lat = sorted(x * 1000 for x in ok)
    p50 = statistics.median(lat) if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
    statuses: dict[int, int] = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    return (f"{name}: {len(ok)}/{len(answers)} answered {sorted(good)} (by status: {statuses}; 0 = no answer in 5 s); "
            f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(lat) if lat else float('nan'):.1f} ms")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=1100)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--fd-limit", type=int, default=1024)
    ap.add_argument("--unguarded", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child), args.fd_limit, args.unguarded)
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sheets").mkdir()
        (folder / "sheets" / "trial.yaml").write_text(
            f"service:\n  spreadsheet_id: {SHEET}\n  secret_env: TRIAL_SECRET\n"
            "source:\n  type: xlsx\n  path: contacts.xlsx\ncolumns:\n  email: Email\n", encoding="utf-8")
        stderr_path = folder / "stderr.log"
        cmd = [sys.executable, __file__, "--child", str(folder / "sheets"),
               "--fd-limit", str(args.fd_limit)] + (["--unguarded"] if args.unguarded else [])
        env = {**os.environ, "TRIAL_SECRET": SECRET, "SHEETS_CONNECTOR_STATE_DIR": str(folder / "state")}
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, text=True)
            try:
                assert proc.stdout is not None
                base = proc.stdout.readline().strip()
                if not base.startswith("http://"):
                    raise SystemExit("the service did not start: " + stderr_path.read_text()[-2000:])
                host, port = base.removeprefix("http://").split(":")
                stats = {"opened": 0, "dropped": 0, "connect_failed": 0}
                answers: dict[str, list[Any]] = {"healthz": [], "click": []}

                async def trial() -> None:
                    stop = asyncio.Event()
                    flood = asyncio.create_task(slow_clients(host, int(port), args.connections, stop, stats))
                    await asyncio.sleep(3)  # let the flood build up first
                    await asyncio.to_thread(probe, base, args.seconds, answers)
                    stop.set()
                    flood.cancel()
                    try:
                        await flood
                    except asyncio.CancelledError:
                        pass

                asyncio.run(trial())
                rss = peak_rss_mb(proc.pid)
            finally:
                proc.terminate()
                proc.wait(60)
        logged = stderr_path.read_bytes()
        newlines, tracebacks = logged.count(b"\n"), logged.count(b"Traceback")
        print(f"{'unguarded uvicorn' if args.unguarded else 'guarded service'}: {args.connections} slow connections, "
              f"{args.seconds:.0f} s, child open-files limit {args.fd_limit}")
        print(f"slow connections opened {stats['opened']}, dropped by the service {stats['dropped']}, "
              f"connects refused {stats['connect_failed']}")
        print(summary("/healthz", answers["healthz"], {200}))
        print(summary("signed clicks", answers["click"], {202, 409}))
        print(f"service peak memory (VmHWM) {rss:.1f} MB; stderr {len(logged) / 1e6:.2f} MB, "
              f"{newlines} lines, {tracebacks} tracebacks")
        lines = [ln for ln in logged.decode("utf-8", "replace").splitlines() if '"request"' not in ln]
        kinds: dict[str, int] = {}
        for ln in lines:
            key = ln[ln.find('"event"'):][:90] if ln.startswith("{") else ln[:90]
            kinds[key] = kinds.get(key, 0) + 1
        print("service's log lines other than one per request, by kind (most frequent 8):")
        for ln, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {count:6d} x {ln}")
        if os.environ.get("TRIAL_KEEP_LOG"):
            Path(os.environ["TRIAL_KEEP_LOG"]).write_bytes(logged)
        for ln in []:
            print("  " + ln[:220])


if __name__ == "__main__":
    main()
