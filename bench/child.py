"""One connector run in its own process, so its peak RSS is the connector's alone.

    python -m bench.child sync|pull-new <mapping.yaml>
Prints the run summary as JSON with ``peak_rss_mb`` added.
"""
from __future__ import annotations

import json
import resource
import sys

from sheets_connector.config import load_config
from sheets_connector.sync import pull_new, sync


def main() -> None:
    command, mapping = sys.argv[1], sys.argv[2]
    cfg = load_config(mapping)
    summary = sync(cfg) if command == "sync" else pull_new(cfg)
    d = summary.to_dict(max_rows=0)
    d["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps(d, default=str))


if __name__ == "__main__":
    main()
