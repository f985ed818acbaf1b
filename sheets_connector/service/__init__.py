"""The web service behind the spreadsheet's "inwise" menu, and scheduled syncs.

``sheets-connector serve --configs DIR`` (``cli.py``) wires these modules:

- ``sheets``     the allow-list: spreadsheet id -> mapping file, webhook secret(s), schedule
- ``signing``    Stripe-style ``X-Signature`` signing and verification
- ``store``      the interfaces the service depends on: ``RunStore`` (run registry, run lock,
                 replay guard, schedule slots) and ``Runner`` (one sync), and the records they exchange
- ``runstore``   ``StateRunStore``: the ``RunStore`` over the state store (SQLite or PostgreSQL),
                 the one registry the CLI and every replica share
- ``runs``       ``RunManager``: lock, queue, run in worker threads, cancel on shutdown
- ``runner``     ``sync_runner``: the ``Runner`` that calls the library's ``sync``
- ``app``        the FastAPI app (routes, refusals, request log)
- ``schedule``   cron schedules per spreadsheet (croniter), missed-slot catch-up, each slot
                 claimed once in the fleet
- ``server``     builds all of the above and runs uvicorn
- ``log``        one JSON line per request and per run

The Apps Script side lives in ``apps_script/`` at the top of the repository.
"""
