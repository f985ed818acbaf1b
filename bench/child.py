"""One connector run in its own process, so its memory is the connector's alone.

    python -m bench.child sync|pull-new <mapping.yaml>
Prints the run summary as JSON, with the peak RSS of this process and the peak of the sum over
this process and every process it started (the validation workers of large sheets are children
of a forkserver, which getrusage(RUSAGE_CHILDREN) does not see: /proc is sampled instead), and
both per stage of the run (``stage_peak_rss_mb``: read, map, send, pull, write, save; "other"
is the time between them).  The process's own figure per stage is exact: the kernel's high-water
mark (VmHWM) is read when a stage ends and reset when the next begins (``/proc/self/clear_refs``);
the figure with the workers is the largest /proc sample taken during the stage (every 50 ms).
"""
from __future__ import annotations

import json
import os
import resource
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sheets_connector.config import load_config
from sheets_connector.sync import pull_new, sync
from sheets_connector.sync.plan import Stages


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


def _high_water_mb(reset: bool) -> float:
    """This process's peak RSS since the last reset (VmHWM); reset it after reading if asked."""
    with open("/proc/self/status") as f:
        hwm = next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0) / 1024
    if reset:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets the high-water mark to the current RSS
        except OSError:
            pass  # then each stage's figure is the peak so far: still an upper bound
    return hwm


class StagePeaks:
    """Peak RSS per stage of the run: this process's (exact) and with its workers (sampled)."""

    def __init__(self) -> None:
        self.stages: list[str] = ["other"]  # the stage running now (last), "other" between stages
        self.process: dict[str, float] = {}
        self.tree: dict[str, float] = {}
        self.lock = threading.Lock()

    def _close(self, name: str) -> None:
        hwm = _high_water_mb(reset=True)
        self.process[name] = max(self.process.get(name, 0.0), hwm)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with self.lock:
            self._close(self.stages[-1])
            self.stages.append(name)
        try:
            yield
        finally:
            with self.lock:
                self._close(self.stages.pop())

    def sample(self) -> None:
        with self.lock:
            name = self.stages[-1]
        rss = _tree_rss_mb(os.getpid())
        with self.lock:
            self.tree[name] = max(self.tree.get(name, 0.0), rss)

    def finish(self) -> dict[str, dict[str, float]]:
        self._close(self.stages[-1])
        return {name: {"process": round(self.process[name]), "all": round(max(self.tree.get(name, 0.0), self.process[name]))}
                for name in self.process}


def _watch_stages(peaks: StagePeaks) -> None:
    """Make every ``Stages`` of the run (the timings it reports) mark its stage in ``peaks``."""
    timed = Stages.__call__

    @contextmanager
    def call(self: Stages, name: str) -> Iterator[None]:
        with peaks.stage(name), timed(self, name):
            yield

    Stages.__call__ = call  # type: ignore[method-assign]


def main() -> None:
    command, mapping = sys.argv[1], sys.argv[2]
    peaks = StagePeaks()
    _watch_stages(peaks)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peaks.sample()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cfg = load_config(mapping)
    summary = sync(cfg) if command == "sync" else pull_new(cfg)
    done.set()
    sampler.join()
    stages = peaks.finish()
    d = summary.to_dict(max_rows=0)
    if d.get("written_to"):  # the report is committed: no path of this machine in it
        d["written_to"] = Path(d["written_to"]).name
    # the high-water mark is reset per stage, so the run's peak is the largest stage's
    d["peak_rss_mb"] = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
                            *(s["process"] for s in stages.values())])
    d["peak_rss_all_processes_mb"] = max([d["peak_rss_mb"], *(s["all"] for s in stages.values())])
    d["stage_peak_rss_mb"] = stages
    print(json.dumps(d, default=str))


if __name__ == "__main__":
    main()
