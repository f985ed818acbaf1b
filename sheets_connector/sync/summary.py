"""The run summary: what the CLI prints, ``--json`` emits and (later) the run history keeps."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from ..messages.catalog import said_json, to_json
from ..results import NOT_SENT_BY_CHOICE, OUTCOMES, RowOutcome

# progress(stage, done, total): stage is "send" or "pull"; total None when unknown
Progress = Callable[[str, int, "int | None"], None]


@dataclass
class RunSummary:
    command: str
    source: str
    mode: str
    dry_run: bool = False
    rows_read: int = 0  # data rows below the header that hold anything
    empty_rows: int = 0
    # per outcome of the rows written this run, plus "unchanged": rows not sent because nothing in
    # them changed since their last successful sync (their result cell keeps its words and date)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*OUTCOMES, "unchanged"), 0))
    api_calls: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage: read, map, send, pull, write, save
    interrupted: bool = False  # stopped by the cancel token: only part of the rows were sent
    new_contacts_pulled: int = 0
    new_contacts_appended: int = 0
    duration_s: float = 0.0
    written_to: str | None = None
    is_copy: bool = False
    lost: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)  # dry run: what would be sent (API bodies)
    preview_lines: list[str] = field(default_factory=list)  # dry run: the first rows in plain words
    started_at: str = ""
    run_id: int | None = None  # in the run history (``sheets-connector runs show ID``)
    trigger: str = "cli"  # cli, menu, schedule
    full: bool = False  # --full: every row sent, changed or not
    recovered: int = 0  # rows whose answer from an earlier, stopped run was written without sending them again
    feed_commit_ms: list[float] = field(default_factory=list)  # per feed answer: last byte received -> kept
    error: str | None = None  # the run finished but something needs the user (e.g. the state store is full)
    outage: str | None = None  # inwise stopped answering: the breaker stopped sending (exit code 69)
    language: str = "en"  # the mapping's language: the sheet menu shows the summary in it

    def problems(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if not o.ok and o.outcome not in NOT_SENT_BY_CHOICE]

    def finish(self, outcomes: dict[int, RowOutcome], duration_s: float) -> None:
        self.outcomes = [outcomes[k] for k in sorted(outcomes)]
        for o in self.outcomes:
            self.counts[o.outcome] = self.counts.get(o.outcome, 0) + 1
        self.duration_s = round(duration_s, 3)

    def to_dict(self, max_rows: int | None = None) -> dict[str, Any]:
        """JSON-ready; every problem row and preview row unless ``max_rows`` caps them."""
        # not asdict(self): it would deep-copy every row's outcome first (a second per 10,000 rows)
        d: dict[str, Any] = {f.name: _copy(getattr(self, f.name)) for f in fields(self)
                             if f.name not in ("outcomes", "preview", "preview_lines")}
        # the warnings and error as messages, by their English words: shown in the run's language by
        # the sheet menu and `runs show` (a run stored before this has none: its words are shown)
        d["said"] = said_json([*self.warnings, self.error, self.outage])
        d["rows_sent"] = sum(self.counts[k] for k in ("created", "updated", "conflict", "error")) - self.recovered
        probs = self.problems()
        d["problems"] = [
            {"row": o.row, "outcome": o.outcome, "detail": o.detail,
             **({"reason": to_json(o.reason)} if o.reason is not None else {}),
             **({"conflict": o.conflict} if o.conflict else {})}
            for o in probs[:max_rows]
        ]
        d["problems_truncated"] = 0 if max_rows is None else max(0, len(probs) - max_rows)
        if self.dry_run:
            d["preview"] = self.preview[:max_rows]
            d["would_send"] = len(self.preview)
        return d


def _copy(v: Any) -> Any:
    return list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v
