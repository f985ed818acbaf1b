"""The real sync service for the Apps Script tests, with everything it needs on 127.0.0.1.

``python service_for_tests.py [--latency-ms N] [--concurrency N] [--workdir DIR]`` copies the demo workbook and
mapping into DIR (default: a temporary folder, removed at exit), adding the mapping's
``service:`` section; starts the inwise sandbox with the demo's existing contacts; and runs the
library's ``serve`` with the real sync runner.  Once the service listens it prints one JSON
line on stdout: ``{"url", "spreadsheet_id", "secret", "sandbox", "mapping", "api_key"}`` (a fresh random
secret; the sandbox's root, for its ``/_sandbox`` controls; the mapping and the sandbox's key, for a
command-line sync of the same sheet).  SIGTERM stops it.  DIR then holds
``sheets/contacts.xlsx`` (the synced workbook) and, as the demo mapping's ``state_dir`` says,
``sheets/.sheets-connector/state.db`` (the state store: the run registry, shared with a
command-line sync of the same mapping).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from sheets_connector.demo import example_file
from sheets_connector.sandbox import Faults, Sandbox
from sheets_connector.service import log
from sheets_connector.service.runner import sync_runner
from sheets_connector.service.server import ServeOptions, serve

SPREADSHEET_ID = "1DemoSheet-for_apps-script-tests"
HEBREW_ID = "1HebrewSheet-for_apps-script-tests"  # the same demo with ``language: he``
API_KEY = "apps-script-test-key"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--concurrency", type=int, default=None, help="inwise.concurrency of the mapping")
    args = parser.parse_args()
    secret = secrets.token_hex(24)
    hebrew_secret = secrets.token_hex(24)
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="sheets-connector-menu-"))
    try:
        configs = folder / "sheets"
        configs.mkdir()
        shutil.copyfile(example_file("contacts.xlsx"), configs / "contacts.xlsx")
        shutil.copyfile(example_file("contacts.xlsx"), configs / "contacts_he.xlsx")
        seed = json.loads(example_file("existing_contacts.json").read_text(encoding="utf-8"))
        with Sandbox(api_keys=(API_KEY,), seed_contacts=seed, faults=Faults(latency_ms=args.latency_ms)) as sandbox:
            mapping = example_file("mapping.yaml").read_text(encoding="utf-8")
            mapping = mapping.replace("http://127.0.0.1:8765/rest/v1", sandbox.base_url)
            if args.concurrency:
                mapping = mapping.replace("  mode: upsert\n", f"  mode: upsert\n  concurrency: {args.concurrency}\n")
            (configs / "demo.yaml").write_text(
                f"service:\n  spreadsheet_id: {SPREADSHEET_ID}\n  secret_env: DEMO_SHEET_SECRET\n" + mapping,
                encoding="utf-8")
            hebrew = mapping.replace("path: contacts.xlsx", "path: contacts_he.xlsx") + "language: he\n"
            (configs / "demo_he.yaml").write_text(
                f"service:\n  spreadsheet_id: {HEBREW_ID}\n  secret_env: HEBREW_SHEET_SECRET\n" + hebrew,
                encoding="utf-8")
            os.environ["DEMO_SHEET_SECRET"] = secret
            os.environ["HEBREW_SHEET_SECRET"] = hebrew_secret
            os.environ["INWISE_API_KEY"] = API_KEY
            log.configure()

            def ready(url: str) -> None:
                print(json.dumps({"url": url, "spreadsheet_id": SPREADSHEET_ID, "secret": secret,
                                  "sandbox": sandbox.base_url.removesuffix("/rest/v1"),
                                  "mapping": str(configs / "demo.yaml"), "api_key": API_KEY,
                                  "hebrew": {"spreadsheet_id": HEBREW_ID, "secret": hebrew_secret}}), flush=True)

            serve(ServeOptions(configs=configs, port=0), sync_runner, on_ready=ready)
    finally:
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
