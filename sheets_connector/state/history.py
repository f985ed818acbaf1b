"""The run history in words: what ``sheets-connector runs`` and ``runs show ID`` print.

The CLI only opens the store and prints these lines; the web service reads the same records
(``RunStore.list_runs`` / ``get_run``) and shapes its own JSON with ``RunRecord.to_dict``.
"""
from __future__ import annotations

import functools
from typing import Any

from ..messages import calls_in_words, summary_text
from ..messages.catalog import Msg, from_json, msg, render, said_from_json
from .model import RunRecord

COUNT_ORDER = ("created", "updated", "unchanged", "conflict", "invalid", "missing", "duplicate", "error", "held",
               "no_consent")
COUNT_WORDS = {"missing": "no email or mobile", "held": "held back (do not sync)", "no_consent": "not sent: no consent"}
# the outcomes of rows that need attention (see RunSummary.problems)
ATTENTION = ("conflict", "invalid", "missing", "duplicate", "error")
TRIGGERS = {"cli": "command line", "menu": "sheet menu", "schedule": "schedule"}
STATUS_WORDS = {"ok": "done", "failed": "failed", "stopped": "stopped by you", "crashed": "stopped unexpectedly",
                "running": "running"}


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{COUNT_WORDS.get(k, k)} {counts[k]}" for k in COUNT_ORDER if counts.get(k))


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
    """``runs show``: the run, its counts, its warnings and the rows that failed and why, in the
    language of the run's mapping (kept in its summary; English for a run that has none)."""
    s: dict[str, Any] = run.summary or {}
    language = s.get("language") or "en"

    def words(key: str, **values: object) -> str:
        return render(msg(key, **values), language)

    trigger = words(f"runs.trigger_{run.trigger}") if run.trigger in TRIGGERS else run.trigger
    status = words(f"runs.status_{run.status}") if run.status in STATUS_WORDS else run.status
    if run.status == "running":
        status = words("runs.running_stage", status=status, stage=run.stage)
    lines = [
        words("runs.title", id=run.id, command=run.command, label=run.label),
        words("runs.started", when=when_text(run.started_at), trigger=trigger, status=status)
        + (words("runs.after", duration=duration_text(run.duration_s)) if run.duration_s is not None else ""),
    ]
    if run.counts:
        counts = ", ".join(words("runs.count", what=Msg(f"runs.{'error_rows' if k == 'error' else k}"), n=run.counts[k])
                           for k in COUNT_ORDER if run.counts.get(k))
        lines.append(words("runs.rows", counts=counts or Msg("runs.none")))
    if s.get("api_calls"):
        calls = calls_in_words(s["api_calls"], language)
        lines.append(words("runs.sent", calls=calls) + (words("runs.retries", n=s["retries"]) if s.get("retries") else ""))
    if "new_contacts_pulled" in s:  # a whole summary (a run ended by an error keeps only its words)
        lines.append(words("runs.new_contacts", pulled=s.get("new_contacts_pulled", 0),
                           added=s.get("new_contacts_appended", 0)))
    if run.error:
        lines.append(words("runs.error", text=said_from_json(run.error, s.get("said"), language)))
    for w in s.get("warnings") or []:
        lines.append(words("runs.warning", text=said_from_json(str(w), s.get("said"), language)))
    problems = s.get("problems") or []
    kept = len(problems) + int(s.get("problems_truncated") or 0)
    total = max(kept, sum(int(run.counts.get(k) or 0) for k in ATTENTION))
    if problems:
        # the rows' reasons in the language of the run's mapping (kept as message ids and values)
        say = functools.partial(summary_text, language=language)
        lines.append("  " + say("history_attention", n=total))
        for p in problems[:max_rows]:
            reason = render(from_json(p["reason"]), language) if p.get("reason") else p.get("detail", "")
            lines.append("    " + say("problem_row", row=p["row"], reason=reason))
        more = total - min(len(problems), max_rows)
        if more > 0:
            listed = say("history_lists_all" if len(problems) >= total else "history_lists_kept", run=run.id,
                         n=len(problems))
            lines.append("    " + say("history_more", n=more, listed=listed))
    return lines
