"""The one pass: config -> table -> mapping -> inwise -> results, as stages.

- plan.py        read the table, map every row (no network)
- send.py        per-row upsert or batchInsert, stopping on the cancel token
- newcontacts.py the once-only feed into the store, then the new-contacts tab
- writeback.py   settle created/updated, result cells, save (or a results CSV)
- run.py         ``sync`` and ``pull_new``: the stages assembled with their collaborators
"""
from __future__ import annotations

from .plan import Plan, plan, send_options
from .run import ClientFactory, Clock, make_client, pull_new, sync
from .summary import Progress, RunSummary

__all__ = ["ClientFactory", "Clock", "Plan", "Progress", "RunSummary", "make_client", "plan", "pull_new",
           "send_options", "sync"]
