"""``sheets-connector demo``: the example workbook synced to an in-process sandbox.

Nothing here is special-cased: the demo copies the bundled workbook and mapping into a folder,
starts the real sandbox on a free port, and runs the same ``sync`` a user runs.
"""
from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from .config import load_config
from .errors import SourceError
from .sandbox import Sandbox
from .cancel import CancelToken
from .sync import Progress, RunSummary, sync

DEMO_API_KEY = "demo-key"
FILES = ("contacts.xlsx", "mapping.yaml")


def example_file(name: str) -> Path:
    return Path(str(resources.files("sheets_connector") / "examples" / name))


def run_demo(workdir: Path, *, mode: str | None = None, progress: Progress | None = None,
             cancel: CancelToken | None = None) -> tuple[RunSummary, dict[str, Path]]:
    workdir = workdir.expanduser().resolve()
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(example_file(name), workdir / name)
        # the demo's sandbox starts empty every time, so its state store does too
        shutil.rmtree(workdir / ".sheets-connector", ignore_errors=True)
    except OSError as e:
        raise SourceError(f"Cannot prepare the demo folder {workdir}: {e.strerror or e}. Choose another with --workdir.") from None
    seed = json.loads(example_file("existing_contacts.json").read_text(encoding="utf-8"))
    cfg = load_config(workdir / "mapping.yaml")
    with Sandbox(api_keys=(DEMO_API_KEY,), seed_contacts=seed) as sandbox:
        cfg.inwise.base_url = sandbox.base_url
        cfg.state_dir = ".sheets-connector"  # the demo's own store, next to its workbook
        if mode:
            cfg.inwise.mode = mode  # type: ignore[assignment]
            if mode == "batch":
                cfg.columns.external_id = None  # batchInsert has no external_id column
        summary = sync(cfg, progress=progress, environ={cfg.inwise.api_key_env: DEMO_API_KEY}, cancel=cancel)
    return summary, {"workdir": workdir, "workbook": Path(summary.written_to or workdir / "contacts.xlsx"),
                     "mapping": workdir / "mapping.yaml"}
