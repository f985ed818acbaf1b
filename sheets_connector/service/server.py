"""``serve``: the allow-list, the run store, the run manager, the scheduler and uvicorn, wired.

The run store (``service.db``: webhook runs, their leases, the replay guard) sits next to the
state store by default (``default_db``); the state store (locks, history) is the one each
mapping names, shared with ``sheets-connector sync`` run from a shell or cron.

uvicorn owns SIGINT/SIGTERM: it stops taking requests, then the app's lifespan shutdown stops
the scheduler and cancels and waits for the runs (``RunManager.shutdown``), so a run stopped
by SIGTERM ends as ``cancelled`` with its results written.
"""
from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from ..state import default_dir
from . import log
from .app import Limits, create_app
from .history import SheetHistory
from .runs import RunManager
from .runstore import SQLiteRunStore
from .schedule import Scheduler
from .sheets import Registry, load_registry
from .store import Runner

SERVICE_DB = "service.db"


@dataclass
class ServeOptions:
    configs: Path
    db: Path | None = None  # default: ``default_db(registry)``
    host: str = "127.0.0.1"
    port: int = 8787
    max_parallel: int = 2
    limits: Limits = field(default_factory=Limits)
    root_path: str = ""  # the path prefix when a proxy serves the service under one


def default_db(registry: Registry, environ: Mapping[str, str] | None = None) -> Path:
    """The service's SQLite file, next to the state store so a deployment keeps its state in one
    folder: the one every served mapping names in ``state_dir``, else the per-user state folder."""
    folders = {sheet.state_dir for sheet in registry}
    if len(folders) == 1:
        (only,) = folders
        if only is not None:
            return only / SERVICE_DB
    return default_dir(environ) / SERVICE_DB


def serve(options: ServeOptions, runner: Runner, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the service until SIGTERM/SIGINT. ``on_ready(url)`` is called once it listens."""
    registry = load_registry(options.configs)
    db = options.db or default_db(registry)
    db.parent.mkdir(parents=True, exist_ok=True)
    store = SQLiteRunStore(db)
    manager = RunManager(store, runner, max_parallel=options.max_parallel, history=SheetHistory())
    scheduler = Scheduler(registry, manager, store)

    def shutdown() -> None:
        scheduler.stop()
        manager.shutdown()

    app = create_app(registry, store, manager, limits=options.limits, on_shutdown=shutdown)
    config = uvicorn.Config(app, host=options.host, port=options.port, log_config=None, access_log=False,
                            root_path=options.root_path, server_header=False, lifespan="on")
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                await task  # failed to start (port in use...): raise its error
                return
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{options.host}:{port}"
        scheduler.start()
        log.event("listening", url=url, spreadsheets=sorted(s.spreadsheet_id for s in registry),
                  scheduled=sorted(s.spreadsheet_id for s in registry if s.schedule), at=int(time.time()))
        if on_ready is not None:
            on_ready(url)
        await task

    # uvicorn handles SIGINT/SIGTERM while it runs and raises them again once it has shut down
    # gracefully; by then every run has finished writing, so that second delivery is ignored
    # and ``serve`` returns normally (exit status 0).
    restore = {}
    if threading.current_thread() is threading.main_thread():
        restore = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(main())
    finally:
        for sig, handler in restore.items():
            signal.signal(sig, handler)
