"""``serve``: the allow-list, the run registry, the run manager, the scheduler and uvicorn, wired.

The run registry is the state store (``runstore.StateRunStore``): the one each mapping's syncs
use, shared with ``sheets-connector sync`` from a shell or cron and, on PostgreSQL
(``--state-url``), with every replica of the service.

uvicorn owns SIGINT/SIGTERM: it stops taking requests, then the app's lifespan shutdown stops
the scheduler and cancels and waits for the runs (``RunManager.shutdown``), so a run stopped
by SIGTERM ends as ``cancelled`` with its results written.
"""
from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from . import log
from .app import Limits, create_app
from .guard import ClientLimits, quiet_accept_errors, uvicorn_config
from .runs import RunManager
from .runstore import StateRunStore
from .schedule import Scheduler
from .sheets import load_registry
from .store import Runner


@dataclass
class ServeOptions:
    configs: Path
    host: str = "127.0.0.1"
    port: int = 8787
    max_parallel: int = 2
    limits: Limits = field(default_factory=Limits)
    clients: ClientLimits = field(default_factory=ClientLimits)
    root_path: str = ""  # the path prefix when a proxy serves the service under one


def serve(options: ServeOptions, runner: Runner, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the service until SIGTERM/SIGINT. ``on_ready(url)`` is called once it listens."""
    registry = load_registry(options.configs)
    log.hide(*registry.secrets(), os.environ.get("INWISE_API_KEY", ""))
    store = StateRunStore(registry)
    manager = RunManager(store, runner, max_parallel=options.max_parallel)
    scheduler = Scheduler(registry, manager, store)

    def shutdown() -> None:
        scheduler.stop()
        manager.shutdown()
        store.close()

    app = create_app(registry, store, manager, limits=options.limits, on_shutdown=shutdown,
                     checks={"store": store.ping, "scheduler": scheduler.alive, "workers": manager.alive})
    config = uvicorn_config(app, host=options.host, port=options.port, limits=options.clients,
                            root_path=options.root_path, lifespan="on")
    server = uvicorn.Server(config)

    async def main() -> None:
        quiet_accept_errors(asyncio.get_running_loop())
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
