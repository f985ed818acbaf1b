"""Retention: what the store may forget, so that it stops growing with every run.

Pruned once a run has saved, when older than the mapping's ``state_retention_days`` (default 30):

- a feed answer (its raw bytes too) whose every contact was delivered to every sheet that receives it (and that
  was read whole: an answer kept ``unreadable``, ``partial`` or not yet read stays, for a newer
  version to read again), with its contacts' ids and their deliveries;
- the details of a run (its summary: warnings, every problem row), keeping the run's line in
  the history (when, how it ended, its counts) and the details of each sheet's latest run.

Never pruned: anything not yet delivered to a sheet, however old (a sheet that stopped syncing
keeps its contacts waiting), the rows' fingerprints and answers (one per row of the sheet),
locks, a running run.  The statements are the SQL both engines speak (``?`` placeholders, see
store.py); freed room is reused by the next runs (SQLite keeps the file's size).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

DEFAULT_DAYS = 30
PRUNE_EVERY = timedelta(hours=1)  # a store is pruned at most this often (runs every minute need not)
META_KEY = "pruned_at"

# an answer someone still waits for: a contact of it, for a sheet that receives it, not delivered
_UNDELIVERED = (
    "EXISTS (SELECT 1 FROM feed_contacts c JOIN sheets s ON s.account=c.account AND c.answer_id >= s.from_answer "
    "WHERE c.account=a.account AND c.answer_id=a.id AND NOT EXISTS ("
    "  SELECT 1 FROM deliveries d WHERE d.sheet=s.sheet AND d.account=c.account AND d.contact_id=c.contact_id))")
# a sheet received it (else an answer with contacts nobody has taken yet, e.g. kept before any sheet)
_RECEIVED = "EXISTS (SELECT 1 FROM sheets s WHERE s.account=a.account AND s.from_answer <= a.id)"


@dataclass
class Pruned:
    feed_answers: int = 0
    feed_contacts: int = 0
    deliveries: int = 0
    run_details: int = 0

    def __bool__(self) -> bool:
        return any((self.feed_answers, self.feed_contacts, self.deliveries, self.run_details))


def cutoffs(now: datetime, days: int) -> tuple[str, str]:
    """(feed cutoff in UTC as the store writes received_at, run cutoff as runs write started_at:
    the run's clock, local and naive)."""
    then = now - timedelta(days=days)
    utc = (then if then.tzinfo is not None else then.astimezone()).astimezone(timezone.utc)
    return utc.isoformat(timespec="milliseconds"), then.replace(tzinfo=None).isoformat(timespec="seconds")


def prune(store: Any, now: datetime, days: int = DEFAULT_DAYS) -> Pruned:
    """Forget what is delivered and older than ``days`` (see the module's docstring), in one
    transaction."""
    feed_cut, run_cut = cutoffs(now, days)
    done = Pruned()
    with store.db.write() as cur:
        ids = [int(r[0]) for r in cur.execute(
            f"SELECT a.id FROM feed_answers a WHERE a.received_at < ? AND a.state='parsed' "
            f"AND NOT {_UNDELIVERED} AND (a.contacts = 0 OR {_RECEIVED})", (feed_cut,)).fetchall()]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            cur.execute(
                f"DELETE FROM deliveries WHERE EXISTS (SELECT 1 FROM feed_contacts c WHERE c.account=deliveries.account "
                f"AND c.contact_id=deliveries.contact_id AND c.answer_id IN ({marks}))", tuple(chunk))
            done.deliveries += max(cur.rowcount, 0)
            cur.execute(f"DELETE FROM feed_contacts WHERE answer_id IN ({marks})", tuple(chunk))
            done.feed_contacts += max(cur.rowcount, 0)
            cur.execute(f"DELETE FROM feed_raw WHERE answer_id IN ({marks})", tuple(chunk))
            cur.execute(f"DELETE FROM feed_answers WHERE id IN ({marks})", tuple(chunk))
            done.feed_answers += max(cur.rowcount, 0)
        cur.execute(
            "UPDATE runs SET summary=NULL WHERE summary IS NOT NULL AND status <> 'running' AND started_at < ? "
            "AND id < (SELECT MAX(r.id) FROM runs r WHERE r.sheet=runs.sheet)", (run_cut,))
        done.run_details = max(cur.rowcount, 0)
    return done


def due(store: Any, now: datetime) -> bool:
    """Whether the store was last pruned more than PRUNE_EVERY ago (by the run's clock)."""
    last = store.meta_get(META_KEY)
    if last is None:
        return True
    try:
        return now.replace(tzinfo=None) - datetime.fromisoformat(last) >= PRUNE_EVERY
    except ValueError:
        return True


def prune_if_due(store: Any, now: datetime, days: int = DEFAULT_DAYS) -> Pruned | None:
    if not due(store, now):
        return None
    done = prune(store, now, days)
    store.meta_set(META_KEY, now.replace(tzinfo=None).isoformat(timespec="seconds"))
    return done
