"""The run history in words: what ``sheets-connector runs`` and ``runs show ID`` print.

The CLI only opens the store and prints these lines; the web service reads the same records
(``RunStore.list_runs`` / ``get_run``) and shapes its own JSON with ``RunRecord.to_dict``.
"""
from __future__ import annotations

import functools
from typing import Any

from ..messages import calls_in_words, summary_text
from ..messages.catalog import Msg, Place, from_json, msg, place_text, render, said_from_json
from .model import RunRecord

COUNT_ORDER = ("created", "updated", "unchanged", "conflict", "invalid", "missing", "duplicate", "error", "held",
               "no_consent")
# the outcomes of rows that need attention (see RunSummary.problems)
ATTENTION = ("conflict", "invalid", "missing", "duplicate", "error")
TRIGGERS = {"cli": "command line", "menu": "sheet menu", "schedule": "schedule"}
STATUS_WORDS = {"ok": "done", "failed": "failed", "stopped": "stopped by you", "crashed": "stopped unexpectedly",
                "running": "running"}


def counts_text(counts: dict[str, int], language: str | None = "en") -> str:
    return ", ".join(render(msg("runs.count", what=_count_word(k), n=counts[k]), language)
                     for k in COUNT_ORDER if counts.get(k))


def _count_word(outcome: str) -> Msg:
    return Msg(f"runs.{'error_rows' if outcome == 'error' else outcome}")


def when_text(iso: str | None) -> str:
    return (iso or "").replace("T", " ")[:19]


def duration_text(seconds: float | None, language: str | None = "en") -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return render(msg("runs.seconds", s=float(seconds)), language)
    return render(msg("runs.minutes", m=int(seconds // 60), s=int(seconds % 60)), language)


def status_text(run: RunRecord, language: str | None = "en") -> str:
    word = render(Msg(f"runs.status_{run.status}"), language) if run.status in STATUS_WORDS else run.status
    return render(msg("runs.running_stage", status=word, stage=run.stage), language) if run.status == "running" else word


def run_language(run: RunRecord, default: str | None = "en") -> str | None:
    """The language of the run's mapping (kept in its summary), else ``default``."""
    return (run.summary or {}).get("language") or default


def table_headers(language: str | None = "en") -> list[str]:
    return [render(Msg(f"runs.h_{h}"), language) for h in ("run", "started", "sheet", "trigger", "status", "took",
                                                          "rows", "error")]


def table_rows(runs: list[RunRecord], language: str | None = "en") -> list[tuple[str, ...]]:
    """One line per run: id, started, sheet, trigger, status, duration, counts, error (first line);
    in each run's own language (its mapping's), else ``language``."""
    return [_table_row(r, run_language(r, language)) for r in runs]


def _table_row(r: RunRecord, language: str | None) -> tuple[str, ...]:
    trigger = render(Msg(f"runs.trigger_{r.trigger}"), language) if r.trigger in TRIGGERS else r.trigger
    error = said_from_json(r.error, (r.summary or {}).get("said"), language) if r.error else ""
    return (str(r.id), when_text(r.started_at), place_text(r.label, language), trigger, status_text(r, language),
            duration_text(r.duration_s, language), counts_text(r.counts, language),
            error.splitlines()[0] if error else "")


def detail_lines(run: RunRecord, max_rows: int = 50) -> list[str]:
    """``runs show``: the run, its counts, its warnings and the rows that failed and why, in the
    language of the run's mapping (kept in its summary; English for a run that has none)."""
    s: dict[str, Any] = run.summary or {}
    language = s.get("language") or "en"

    def words(key: str, **values: object) -> str:
        return render(msg(key, **values), language)

    trigger = words(f"runs.trigger_{run.trigger}") if run.trigger in TRIGGERS else run.trigger
    lines = [
        words("runs.title", id=run.id, command=run.command, label=Place(run.label)),
        words("runs.started", when=when_text(run.started_at), trigger=trigger, status=status_text(run, language))
        + (words("runs.after", duration=duration_text(run.duration_s, language)) if run.duration_s is not None else ""),
    ]
    if run.counts:
        counts = counts_text(run.counts, language)
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
