"""One connector run in its own process, so its memory is the connector's alone.

    python -m bench.child sync|pull-new <mapping.yaml>
Prints the run summary as JSON, with the peak RSS of this process and the peak of the sum over
this process and every process it started (the validation workers of large sheets are children
of a forkserver, which getrusage(RUSAGE_CHILDREN) does not see: /proc is sampled instead).
"""
from __future__ import annotations

import json
import os
import resource
import sys
import threading
from pathlib import Path

from sheets_connector.config import load_config
from sheets_connector.sync import pull_new, sync


def _tree_rss_mb(root: int) -> float:
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total / 1024


def main() -> None:
    command, mapping = sys.argv[1], sys.argv[2]
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_rss_mb(os.getpid()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cfg = load_config(mapping)
    summary = sync(cfg) if command == "sync" else pull_new(cfg)
    done.set()
    sampler.join()
    d = summary.to_dict(max_rows=0)
    if d.get("written_to"):  # the report is committed: no path of this machine in it
        d["written_to"] = Path(d["written_to"]).name
    d["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    d["peak_rss_all_processes_mb"] = max(peak[0], d["peak_rss_mb"])
    print(json.dumps(d, default=str))


if __name__ == "__main__":
    main()
