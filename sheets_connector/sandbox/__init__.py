"""A local stand-in for the inwise contacts REST API: a real HTTP server on 127.0.0.1.

The demo, the tests and the benchmark all talk to this server instead of
``https://api.inwise.com/rest/v1``.  Point a client at ``Sandbox.base_url``
(``http://127.0.0.1:<port>/rest/v1``) and it sees the same three calls:

- ``POST /contacts``              create or update one contact (422 on an email/mobile conflict)
- ``POST /contacts/batchInsert``  import a CSV of contacts
- ``GET  /contacts``              the once-only feed of created contacts (up to 1000 per call)

Every API call needs the header ``X-API-Key``.  On top of the API the sandbox can inject
faults and cost (see ``Faults`` and ``Sandbox.fail_next``) and lets a test read back
everything through ``/_sandbox/...`` paths, which are not part of the inwise API and need no
key.  State lives in memory; with ``state_file`` it is also kept in a JSON file.

Modules: ``store`` (contacts and inwise's rules for them), ``faults`` (fault injection and
request counters), ``server`` (HTTP, the ``Sandbox`` class, ``serve`` for the CLI).
"""
from __future__ import annotations

from ..errors import SandboxError
from .faults import API_PREFIX, Faults
from .server import DEFAULT_API_KEY, INSPECT_PREFIX, Sandbox, read_seed_file, serve

__all__ = ["API_PREFIX", "DEFAULT_API_KEY", "INSPECT_PREFIX", "Faults", "Sandbox", "SandboxError",
           "read_seed_file", "serve"]
