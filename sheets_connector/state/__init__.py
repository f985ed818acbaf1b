"""What must outlive a process, behind one small interface.

``FeedStore`` is what a run needs of the store today: the pages of inwise's once-only
new-contacts feed, kept durably before anything else happens, and which of those contacts each
sheet has received.  ``PulledStore`` (journal.py) implements it with an fsynced JSON-lines file.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from .journal import PulledStore

__all__ = ["FeedStore", "PulledStore"]


class FeedStore(Protocol):
    def append_page(self, contacts: list[dict]) -> None:
        """Keep a feed page durably; returns only once it would survive a crash."""

    def iter_pending(self) -> Iterator[dict]:
        """Pulled contacts not yet delivered to the sheet, in pull order, one per id."""

    def mark_delivered(self, ids: Iterable[object]) -> None:
        """These contacts are now in the sheet (called only after the sheet was saved)."""
