"""What a run's end means for its sheet's alerts: the message, and whether to send it now.

A run ends ``ok``, ``attention`` (completed, with at least ``attention_rows`` rows needing
attention), ``unavailable`` (inwise stopped answering: the breaker), ``stopped`` or ``failed``.
Per sheet, the last alert is kept (the state store's meta, key ``alerts:<sheet>``), so that:

- the first bad run of a sheet is told at once; so is a bad run of another kind;
- the same trouble again is told at most once per ``repeat_hours``, as a reminder that says how
  many runs went wrong since it started and how many were not told one by one;
- the first good run after bad ones says the sheet recovered, once.

Messages hold counts, the sheet's name, the run id and the run-level message, never a row's
contents (emails, phone numbers, names): a row's problem is in the sheet's results column.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["ok", "attention", "unavailable", "stopped", "failed"]
Event = Literal["problem", "reminder", "recovered"]

TRIGGER_WORDS = {"schedule": "the schedule", "menu": "the sheet's menu", "cli": "the command line"}
ATTENTION = ("conflict", "invalid", "missing", "error")  # outcomes a person has to look at
LABELS = {"conflict": "conflicts", "invalid": "invalid values", "missing": "no email or mobile",
          "error": "inwise errors"}
WHAT_TO_DO: dict[str, str] = {
    "failed": "Read what happened above: it says what to fix. Then run the sync again (a scheduled run does so "
              "by itself).",
    "unavailable": "Nothing to fix on your side: the next run sends the rows that were not sent. If it lasts, "
                   "check inwise's status or ask inwise support.",
    "stopped": "Run the sync again to finish it; nothing was lost.",
    "attention": "Open the sheet and look at the rows marked ✗ in the results column (each says what is wrong and "
                 "what to do), fix them and sync again.",
}
TITLES = {"failed": "failed", "unavailable": "stopped: inwise unavailable", "stopped": "was stopped",
          "attention": "left rows needing attention"}


@dataclass
class RunEnd:
    """A run's end as alerts see it (no row contents)."""

    sheet: str  # the state store's name of the sheet (the key of its alert state)
    label: str  # the sheet in words: "contacts.xlsx, sheet 'Contacts'"
    command: str  # sync, pull-new
    trigger: str  # cli, menu, schedule
    run_id: int | None
    at: datetime
    status: Status
    what: str = ""  # what happened, in the run's own words
    counts: dict[str, int] = field(default_factory=dict)
    not_sent: int = 0

    @property
    def attention(self) -> int:
        return sum(self.counts.get(k, 0) for k in ATTENTION) - self.not_sent


@dataclass
class Alert:
    event: Event
    status: Status
    subject: str
    text: str
    end: RunEnd

    def fields(self) -> dict[str, Any]:
        """For a JSON webhook."""
        e = self.end
        return {"event": self.event, "status": self.status, "sheet": e.label, "command": e.command,
                "trigger": e.trigger, "run_id": e.run_id, "at": e.at.isoformat(timespec="seconds"),
                "counts": {k: v for k, v in e.counts.items() if v}, "not_sent": e.not_sent,
                "subject": self.subject, "text": self.text}


def _when(at: datetime | str) -> str:
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    return when.strftime("%d/%m/%Y %H:%M")


def _run(end: RunEnd) -> str:
    number = f"run #{end.run_id}" if end.run_id is not None else "a run"
    return f"{number}, started from {TRIGGER_WORDS.get(end.trigger, end.trigger)} at {_when(end.at)}"


def rows_line(end: RunEnd) -> str:
    c = end.counts
    if not c:
        return "Rows: the run ended before it counted them (rows inwise answered are kept; the next run writes them)."
    sent = c.get("created", 0) + c.get("updated", 0)
    parts = [f"{sent} synced ({c.get('created', 0)} created, {c.get('updated', 0)} updated)"]
    if end.attention:
        kinds = ", ".join(f"{LABELS[k]}: {c[k] - (end.not_sent if k == 'error' else 0)}" for k in ATTENTION
                          if c.get(k, 0) - (end.not_sent if k == "error" else 0) > 0)
        parts.append(f"{end.attention} need attention ({kinds})")
    if end.not_sent:
        parts.append(f"{end.not_sent} not sent")
    if c.get("duplicate"):
        parts.append(f"{c['duplicate']} duplicates")
    if c.get("unchanged"):
        parts.append(f"{c['unchanged']} unchanged")
    return "Rows: " + ", ".join(parts) + "."


def _details(end: RunEnd) -> str:
    return (f"Details: sheets-connector runs show {end.run_id}" if end.run_id is not None
            else "Details: sheets-connector runs")


def problem(end: RunEnd) -> Alert:
    title = TITLES[end.status]
    what = end.what or (f"{end.attention} rows need attention." if end.status == "attention" else "")
    text = "\n".join([
        f"The {end.command} of {end.label} {title} ({_run(end)}).",
        "",
        f"What happened: {what}",
        rows_line(end),
        f"What to do: {WHAT_TO_DO[end.status]}",
        _details(end),
    ])
    return Alert("problem", end.status, f"sheets-connector: {end.label} {title}", text, end)


def reminder(end: RunEnd, state: dict[str, Any]) -> Alert:
    title = TITLES[end.status]
    text = "\n".join([
        f"The {end.command} of {end.label} still {title}: {state['runs']} runs in a row since {_when(state['since'])}; "
        f"{state['quiet']} of them were not told one by one (the last alert was at {_when(state['sent_at'])}).",
        f"Latest: {_run(end)}.",
        "",
        f"What happened: {end.what or f'{end.attention} rows need attention.'}",
        rows_line(end),
        f"What to do: {WHAT_TO_DO[end.status]}",
        _details(end),
    ])
    return Alert("reminder", end.status, f"sheets-connector: {end.label} still {title}", text, end)


def recovered(end: RunEnd, state: dict[str, Any]) -> Alert:
    text = "\n".join([
        f"The {end.command} of {end.label} works again: {_run(end)} completed.",
        f"Before it, {state['runs']} run(s) in a row {TITLES[state['status']]} (since {_when(state['since'])}).",
        rows_line(end),
        "Nothing more to do.",
    ])
    return Alert("recovered", "ok", f"sheets-connector: {end.label} works again", text, end)


def decide(previous: str | None, end: RunEnd, repeat_hours: float) -> tuple[Alert | None, str | None]:
    """(the alert to send now or None, the sheet's new alert state as JSON or None to keep it)."""
    try:
        state: dict[str, Any] | None = json.loads(previous) if previous else None
    except ValueError:
        state = None
    stamp = end.at.isoformat(timespec="seconds")
    if end.status == "ok":
        if state is None:
            return None, None
        return recovered(end, state), ""  # "" clears the state: the next trouble is news again
    if state is None or state.get("status") != end.status:
        new = {"status": end.status, "since": stamp, "sent_at": stamp, "runs": 1, "quiet": 0}
        return problem(end), json.dumps(new)
    state["runs"] = int(state.get("runs", 1)) + 1
    sent_at = datetime.fromisoformat(state["sent_at"])
    if (end.at - sent_at).total_seconds() >= repeat_hours * 3600:
        alert = reminder(end, state)
        state.update(sent_at=stamp, quiet=0)
        return alert, json.dumps(state)
    state["quiet"] = int(state.get("quiet", 0)) + 1
    return None, json.dumps(state)
