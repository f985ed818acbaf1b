"""The journal of pulled contacts of versions before the SQLite store (read once, to import it).

Those versions appended every feed page to ``pulled-contacts.jsonl`` and kept the ids written to
the sheet in ``delivered-contact-ids.json``, in the folder next to the mapping (or ``state_dir``).
``import_journal`` moves what it holds into the store once: the contacts become one kept feed
answer of the account, the delivered ones are marked delivered to the sheet, the others arrive
in the sheet's new-contacts tab with the next run (unless the tab has them already).  The files
are left in place; the store remembers the import.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..fsutil import atomic_write_text, fsync_dir

if TYPE_CHECKING:
    from . import StateStore


class PulledStore:
    """Append-only journal of pulled contacts + the set of ids already written to the sheet."""

    JOURNAL = "pulled-contacts.jsonl"
    DELIVERED = "delivered-contact-ids.json"

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self._lock = threading.Lock()

    @property
    def journal_path(self) -> Path:
        return self.dir / self.JOURNAL

    @property
    def delivered_path(self) -> Path:
        return self.dir / self.DELIVERED

    def _ensure_dir(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)

    def append_page(self, contacts: list[dict]) -> None:
        """Durably record a page from the feed (fsync) before anything else happens."""
        if not contacts:
            return
        with self._lock:
            self._ensure_dir()
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            lines = "".join(
                json.dumps({"pulled_at": now, "contact": c}, ensure_ascii=False) + "\n" for c in contacts
            )
            new = not self.journal_path.exists()
            with open(self.journal_path, "a", encoding="utf-8") as f:
                f.write(lines)
                f.flush()
                os.fsync(f.fileno())
            if new:
                fsync_dir(self.dir)

    def delivered_ids(self) -> set[str]:
        try:
            return set(json.loads(self.delivered_path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return set()

    def _journal(self) -> Iterator[dict]:
        """Every contact in the journal, in pull order."""
        if not self.journal_path.exists():
            return
        with open(self.journal_path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line).get("contact") or {}
                except (json.JSONDecodeError, AttributeError):
                    # only a crash in the middle of the very last write can leave half a line;
                    # that page was never acknowledged, everything before it is intact
                    continue

    def all_contacts(self) -> list[dict]:
        """Every contact ever pulled, in pull order, one per id (the last copy wins)."""
        by_id: dict[str, dict] = {}
        for c in self._journal():
            by_id[str(c.get("id"))] = c
        return list(by_id.values())

    def iter_pending(self) -> Iterator[dict]:
        """Pulled contacts not yet written to the sheet, streamed in pull order (one per id).

        Streaming keeps a run's memory flat: 100,000 pulled contacts as dicts cost ~300 MB.
        """
        done = self.delivered_ids()
        seen: set[str] = set()
        for c in self._journal():
            key = str(c.get("id"))
            if key in done or key in seen:
                continue
            seen.add(key)
            yield c

    def pending(self) -> list[dict]:
        """Pulled contacts not yet written to the sheet."""
        return list(self.iter_pending())

    def mark_delivered(self, ids: Iterable[object]) -> None:
        ids = {str(i) for i in ids}
        if not ids:
            return
        with self._lock:
            self._ensure_dir()
            done = self.delivered_ids() | ids
            atomic_write_text(self.delivered_path, json.dumps(sorted(done)))


def import_journal(store: StateStore, folder: Path, sheet: str, account: str) -> int:
    """Import the old journal in ``folder`` for this sheet once; returns the contacts imported."""
    journal = PulledStore(folder)
    if not journal.journal_path.exists():
        return 0
    key = f"imported-journal:{journal.journal_path.resolve()}"
    if store.meta_get(key) is not None:
        return 0
    contacts = journal.all_contacts()
    if contacts:
        answer = store.add_feed_answer(account, json.dumps(contacts, ensure_ascii=False).encode("utf-8"),
                                       origin="imported journal")
        store.register_sheet_from(sheet, account, answer.id)
        store.commit_saved(sheet, account, None, (), journal.delivered_ids())
    store.meta_set(key, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    return len(contacts)
