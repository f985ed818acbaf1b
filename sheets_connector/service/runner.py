"""The ``Runner`` that ``serve`` uses: the same ``sync`` the CLI runs, on a mapping file.

The run goes on with the lock and the record its click or slot filed in the state store
(``Claim``: the service's run registry is the state store's), under its trigger (``menu`` or
``schedule``); every write it makes proves that lock (fencing).

The mapping decides which worksheet is synced.  The tab the user was on when they clicked the
menu is passed in; when the mapping names another tab, that tab is synced all the same and
the summary says so (a click on the "New contacts" tab must still sync the contacts).

Cancelling goes through the same token as Ctrl-C in the CLI: rows on their way finish, every
result is written, and the summary says ``interrupted``.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..cancel import CancelToken
from ..config import Config, parse_config
from ..errors import ConfigError
from ..messages.catalog import said, said_json
from .store import Claim, ProgressFn


def load_mapping(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"Cannot read the mapping file {path.name}: {e.strerror or e}") from None
    resolved = path.resolve()
    return parse_config(text, where=str(path), base_dir=resolved.parent, file=resolved)


def other_tab_note(config: Config, worksheet: str | None) -> str | None:
    """What to tell a user who clicked the menu on a tab the mapping does not sync."""
    synced = config.source.worksheet
    if not worksheet or not synced or worksheet == synced:
        return None
    return said("run.other_tab", worksheet=worksheet, synced=synced)


def sync_runner(config_path: Path, dry_run: bool, cancel: CancelToken, trigger: str,
                progress: ProgressFn, worksheet: str | None = None, claim: Claim | None = None) -> dict[str, Any]:
    """Run one sync of ``config_path`` (INWISE_API_KEY etc. from the service's environment)."""
    from ..sync import Collaborators, sync

    if cancel.is_set():
        return {"interrupted": True}
    config = load_mapping(config_path)
    given = Collaborators(progress=progress, cancel=cancel)
    if claim is not None and not dry_run:  # the queued run goes on with its lock and record (a dry run takes none)
        given = replace(given, store=claim.store, claim=(claim.token, claim.number))
    summary = sync(config, given, dry_run=dry_run, trigger=trigger)
    result = {**summary.to_dict(max_rows=100), "preview_lines": summary.preview_lines}
    note = other_tab_note(config, worksheet)
    if note:
        result["warnings"] = [note, *(result.get("warnings") or [])]
        result["said"] = {**result.get("said", {}), **said_json([note])}
    return result
