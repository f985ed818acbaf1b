"""inwise: the REST API client (``client.py``) and its wire format (``wire.py``).

``wire.ASSUMPTIONS`` lists everything the connector guesses about the undocumented parts of
inwise's API, each with what would settle it.
"""
from __future__ import annotations

from .client import MESSAGE_LIMIT, CancelFlag, InwiseClient
from .wire import (
    API_KEY_HEADER,
    ASSUMPTIONS,
    CONFLICT_EXAMPLE,
    FEED_PAGE_SIZE,
    Assumption,
    batch_body,
    batch_fields_mapping,
    build_batch_csv,
    contact_body,
    is_domestic,
    parse_conflict,
    parse_contact_id,
    parse_feed_page,
    parse_message,
)

__all__ = [
    "API_KEY_HEADER",
    "ASSUMPTIONS",
    "CONFLICT_EXAMPLE",
    "CancelFlag",
    "FEED_PAGE_SIZE",
    "MESSAGE_LIMIT",
    "Assumption",
    "InwiseClient",
    "batch_body",
    "batch_fields_mapping",
    "build_batch_csv",
    "contact_body",
    "is_domestic",
    "parse_conflict",
    "parse_contact_id",
    "parse_feed_page",
    "parse_message",
]
