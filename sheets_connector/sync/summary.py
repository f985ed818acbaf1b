"""The run summary: what the CLI prints, ``--json`` emits and (later) the run history keeps."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..results import OUTCOMES, RowOutcome

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
    counts: dict[str, int] = field(default_factory=lambda: {o: 0 for o in OUTCOMES})
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

    def problems(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if not o.ok]

    def finish(self, outcomes: dict[int, RowOutcome], duration_s: float) -> None:
        self.outcomes = [outcomes[k] for k in sorted(outcomes)]
        for o in self.outcomes:
            self.counts[o.outcome] += 1
        self.duration_s = round(duration_s, 3)

    def to_dict(self, max_rows: int | None = None) -> dict[str, Any]:
        """JSON-ready; every problem row and preview row unless ``max_rows`` caps them."""
        d = {k: v for k, v in asdict(self).items() if k not in ("outcomes", "preview", "preview_lines")}
        d["rows_sent"] = sum(self.counts[k] for k in ("created", "updated", "conflict", "error"))
        probs = self.problems()
        d["problems"] = [
            {"row": o.row, "outcome": o.outcome, "detail": o.detail, **({"conflict": o.conflict} if o.conflict else {})}
            for o in probs[:max_rows]
        ]
        d["problems_truncated"] = 0 if max_rows is None else max(0, len(probs) - max_rows)
        if self.dry_run:
            d["preview"] = self.preview[:max_rows]
            d["would_send"] = len(self.preview)
        return d
