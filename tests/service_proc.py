"""A real ``serve`` process for the SIGTERM test: ``python service_proc.py CONFIGS STATE_URL RESULTS_DIR``.

It runs the library's ``serve`` (uvicorn in the main thread, its own signal handling) with a
runner that "sends" one row every 20 ms, appending a line per row to RESULTS_DIR/<sheet>.log,
and on cancel writes its closing line and returns ``interrupted``.  The URL is printed on
stdout once the service listens.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sheets_connector.cancel import CancelToken
from sheets_connector.service import log
from sheets_connector.service.server import ServeOptions, serve
from sheets_connector.state.location import ENV_URL


class SlowRunner:
    def __init__(self, results: Path) -> None:
        self.results = results

    def __call__(self, config_path: Path, dry_run: bool, cancel: CancelToken, trigger: str,
                 progress: Callable[[str, int, int | None], None], worksheet: str | None = None,
                 claim: Any = None) -> dict[str, Any]:
        out = self.results / f"{config_path.stem}.log"
        sent = 0
        with open(out, "a", encoding="utf-8") as f:
            while sent < 100_000 and not cancel.is_set():
                sent += 1
                f.write(f"row {sent + 1}: sent\n")
                f.flush()
                progress("send", sent, 100_000)
                cancel.wait(0.02)
            f.write(f"results written for {sent} rows\n")
        return {"counts": {"created": sent}, "interrupted": sent < 100_000}


def main() -> None:
    configs, results = Path(sys.argv[1]), Path(sys.argv[3])
    os.environ[ENV_URL] = sys.argv[2]
    log.configure()
    serve(ServeOptions(configs=configs, port=0), SlowRunner(results),
          on_ready=lambda url: print(url, flush=True))


if __name__ == "__main__":
    main()
