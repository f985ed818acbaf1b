"""The one pass: config -> table -> mapping -> inwise -> results, as stages.

- session.py     the frame of a run: the sheet's lock, the run history, the store's room
- plan.py        read the table, map every row (no network)
- changes.py     which rows changed since their last sync (fingerprints), which a stopped run left
- send.py        per-row upsert or batchInsert, stopping on the cancel token; answers to the store
- newcontacts.py the once-only feed into the store (raw first), then the new-contacts tab
- rescue.py      a feed answer the store could not take: kept in a file, read back next run
- writeback.py   settle created/updated, result cells, save (or a results CSV)
- passes.py      the one pass over a run context: [send] -> pull -> settle -> write -> save
- collaborators.py what a run is given (``Collaborators``: table, store, client factory, clock,
                 progress, cancel, callbacks) and ``Run``, one run's view of them
- run.py         ``sync(config, collaborators, *, dry_run, full, wait, trigger)`` and
                 ``pull_new(config, collaborators, *, wait, trigger)``: the stages assembled
"""
from __future__ import annotations

from .plan import Plan, plan, send_options
from .run import ClientFactory, Clock, Collaborators, make_client, pull_new, sync
from .summary import Progress, RunSummary

__all__ = ["ClientFactory", "Clock", "Collaborators", "Plan", "Progress", "RunSummary", "make_client", "plan",
           "pull_new", "send_options", "sync"]
