"""The web service behind the spreadsheet's "inwise" menu, and scheduled syncs.

``sheets-connector serve --configs DIR`` (``cli.py``) wires these modules:

- ``sheets``     the allow-list: spreadsheet id -> mapping file, webhook secret(s), schedule
- ``signing``    Stripe-style ``X-Signature`` signing and verification
- ``store``      the interfaces the service depends on: ``RunStore`` (run history, run lock,
                 replay guard) and ``Runner`` (one sync), and the records they exchange
- ``runstore``   ``SQLiteRunStore``: the ``RunStore`` shipped, one SQLite file
- ``runs``       ``RunManager``: lock, queue, run in worker threads, cancel on shutdown
- ``runner``     ``sync_runner``: the ``Runner`` that calls the library's ``sync``
- ``app``        the FastAPI app (routes, refusals, request log)
- ``schedule``   cron schedules per spreadsheet (croniter), missed-slot catch-up
- ``server``     builds all of the above and runs uvicorn
- ``log``        one JSON line per request and per run

The Apps Script side lives in ``apps_script/`` at the top of the repository.
"""
