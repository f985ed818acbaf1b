"""Run the Sheets API emulator in the foreground: ``python -m sheets_connector.sheets_emulator``.

``--seed file.json`` creates spreadsheets from ``{"key": ..., "title": ..., "sheets": {tab: rows}}``
objects (one object or a list).  Prints the API address and the access token to use.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .server import EMULATOR_TOKEN, SheetsEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sheets_connector.sheets_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", help="JSON file with spreadsheets to create")
    parser.add_argument("--verbose", action="store_true", help="log one line per request")
    args = parser.parse_args(argv)
    emulator = SheetsEmulator(port=args.port, verbose=args.verbose)
    if args.seed:
        with open(args.seed, encoding="utf-8") as f:
            seeds = json.load(f)
        for seed in seeds if isinstance(seeds, list) else [seeds]:
            key = emulator.create_spreadsheet(seed.get("sheets"), title=seed.get("title", "Contacts"),
                                              key=seed.get("key"), locale=seed.get("locale", "en_US"))
            print(f"spreadsheet {key}", file=sys.stderr)
    with emulator:
        print(f"Sheets API emulator on {emulator.api_url} (token: {EMULATOR_TOKEN}); Ctrl-C stops it.", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
