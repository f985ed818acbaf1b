"""The run history in words: what ``sheets-connector runs`` and ``runs show ID`` print.

The CLI only opens the store and prints these lines; the web service reads the same records
(``RunStore.list_runs`` / ``get_run``) and shapes its own JSON with ``RunRecord.to_dict``.
"""
from __future__ import annotations

from typing import Any

from .model import RunRecord

COUNT_ORDER = ("created", "updated", "unchanged", "conflict", "invalid", "duplicate", "error", "held", "no_consent")
TRIGGERS = {"cli": "command line", "menu": "sheet menu", "schedule": "schedule"}
STATUS_WORDS = {"ok": "done", "failed": "failed", "stopped": "stopped by you", "crashed": "stopped unexpectedly",
                "running": "running"}


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {counts[k]}" for k in COUNT_ORDER if counts.get(k))


def when_text(iso: str | None) -> str:
    return (iso or "").replace("T", " ")[:19]


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def status_text(run: RunRecord) -> str:
    word = STATUS_WORDS.get(run.status, run.status)
    return f"{word} ({run.stage})" if run.status == "running" else word


def table_rows(runs: list[RunRecord]) -> list[tuple[str, ...]]:
    """One line per run: id, started, sheet, trigger, status, duration, counts, error (first line)."""
    return [(str(r.id), when_text(r.started_at), r.label, TRIGGERS.get(r.trigger, r.trigger), status_text(r),
             duration_text(r.duration_s), counts_text(r.counts), (r.error or "").splitlines()[0] if r.error else "")
            for r in runs]


def detail_lines(run: RunRecord, max_rows: int = 50) -> list[str]:
    """``runs show``: the run, its counts, its warnings and the rows that failed and why."""
    s: dict[str, Any] = run.summary or {}
    lines = [
        f"Run #{run.id}: {run.command} of {run.label}",
        f"  started {when_text(run.started_at)} from the {TRIGGERS.get(run.trigger, run.trigger)}, "
        f"{status_text(run)}" + (f" after {duration_text(run.duration_s)}" if run.duration_s is not None else ""),
    ]
    if run.counts:
        lines.append(f"  rows: {counts_text(run.counts) or 'none'}")
    if s.get("api_calls"):
        calls = ", ".join(f"{k} ×{v}" for k, v in sorted(s["api_calls"].items()))
        lines.append(f"  inwise calls: {calls}" + (f" (+{s['retries']} retries)" if s.get("retries") else ""))
    if s:
        lines.append(f"  new contacts: {s.get('new_contacts_pulled', 0)} pulled, "
                     f"{s.get('new_contacts_appended', 0)} added to the sheet")
    if run.error:
        lines.append(f"  error: {run.error}")
    for w in s.get("warnings") or []:
        lines.append(f"  warning: {w}")
    problems = s.get("problems") or []
    if problems:
        lines.append(f"  rows that need attention ({len(problems) + s.get('problems_truncated', 0)}):")
        for p in problems[:max_rows]:
            lines.append(f"    row {p['row']}: ✗ {p['detail']}")
        more = len(problems) - max_rows + s.get("problems_truncated", 0)
        if more > 0:
            lines.append(f"    … and {more} more (--json lists up to 1,000)")
    return lines
