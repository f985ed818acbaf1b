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

from ..messages import format_time
from ..messages.catalog import Joined, Msg, Place, in_language, msg, render

Status = Literal["ok", "attention", "unavailable", "stopped", "failed"]
Event = Literal["problem", "reminder", "recovered"]

ATTENTION = ("conflict", "invalid", "missing", "error")  # outcomes a person has to look at
TRIGGERS = ("schedule", "menu", "cli")
COMMANDS = {"sync": "alert.cmd_sync", "pull-new": "alert.cmd_pull_new"}


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
    what: str = ""  # what happened, in the run's own words (a ``Said``: said in ``language``)
    counts: dict[str, int] = field(default_factory=dict)
    not_sent: int = 0
    language: str = "en"  # the mapping's: the alert's words

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


def _say(end: RunEnd, key: str, /, **values: Any) -> str:
    return render(msg(key, **values), end.language)


def _when(at: datetime | str, language: str) -> str:
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    # English keeps the form it always had; Hebrew the month's name (read one way only)
    return format_time(when, language) if language == "he" else when.strftime("%d/%m/%Y %H:%M")


def _run(end: RunEnd) -> str:
    trigger = msg(f"alert.trigger_{end.trigger}") if end.trigger in TRIGGERS else end.trigger
    when = _when(end.at, end.language)
    if end.run_id is None:
        return _say(end, "alert.a_run", trigger=trigger, when=when)
    return _say(end, "alert.run", run=end.run_id, trigger=trigger, when=when)


def _command(end: RunEnd) -> Msg | str:
    return msg(COMMANDS[end.command]) if end.command in COMMANDS else end.command


def _title(status: str) -> Msg:
    return msg(f"alert.title_{status}")


def rows_line(end: RunEnd) -> str:
    c = end.counts
    if not c:
        return _say(end, "alert.rows_uncounted")
    sent = c.get("created", 0) + c.get("updated", 0)
    parts: list[Msg] = [msg("alert.synced", n=sent, created=c.get("created", 0), updated=c.get("updated", 0))]
    if end.attention:
        kinds = tuple(msg("alert.kind", label=msg(f"alert.label_{k}"), n=c[k] - (end.not_sent if k == "error" else 0))
                      for k in ATTENTION if c.get(k, 0) - (end.not_sent if k == "error" else 0) > 0)
        parts.append(msg("alert.attention", n=end.attention, kinds=Joined(", ", kinds)))
    if end.not_sent:
        parts.append(msg("alert.not_sent", n=end.not_sent))
    if c.get("duplicate"):
        parts.append(msg("alert.duplicates", n=c["duplicate"]))
    if c.get("unchanged"):
        parts.append(msg("alert.unchanged", n=c["unchanged"]))
    return _say(end, "alert.rows", parts=Joined(", ", tuple(parts)))


def _details(end: RunEnd) -> str:
    return _say(end, "alert.details", run=end.run_id) if end.run_id is not None else _say(end, "alert.details_all")


def _what(end: RunEnd, *, attention: bool) -> str:
    """``What happened: ...``: the run's words in the language (other words as they are), or the
    rows needing attention."""
    what: str | Msg = in_language(end.what, end.language) if end.what else ""
    if not end.what and attention:
        what = msg("alert.what_attention", n=end.attention)
    return _say(end, "alert.what", what=what)


def problem(end: RunEnd) -> Alert:
    title = _title(end.status)
    text = "\n".join([
        _say(end, "alert.problem", command=_command(end), label=Place(end.label), title=title, run=_run(end)),
        "",
        _what(end, attention=end.status == "attention"),
        rows_line(end),
        _say(end, "alert.todo", todo=msg(f"alert.todo_{end.status}")),
        _details(end),
    ])
    return Alert("problem", end.status, _say(end, "alert.subject", label=Place(end.label), title=title), text, end)


def reminder(end: RunEnd, state: dict[str, Any]) -> Alert:
    title = _title(end.status)
    lang = end.language
    text = "\n".join([
        _say(end, "alert.still", command=_command(end), label=Place(end.label), title=title, runs=state["runs"],
             since=_when(state["since"], lang), quiet=state["quiet"], sent_at=_when(state["sent_at"], lang)),
        _say(end, "alert.latest", run=_run(end)),
        "",
        _what(end, attention=True),
        rows_line(end),
        _say(end, "alert.todo", todo=msg(f"alert.todo_{end.status}")),
        _details(end),
    ])
    return Alert("reminder", end.status, _say(end, "alert.subject_still", label=Place(end.label), title=title), text,
                 end)


def recovered(end: RunEnd, state: dict[str, Any]) -> Alert:
    text = "\n".join([
        _say(end, "alert.works_again", command=_command(end), label=Place(end.label), run=_run(end)),
        _say(end, "alert.before", runs=state["runs"], title=_title(state["status"]),
             since=_when(state["since"], end.language)),
        rows_line(end),
        _say(end, "alert.nothing_more"),
    ])
    return Alert("recovered", "ok", _say(end, "alert.subject_again", label=Place(end.label)), text, end)


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
