"""inwise: the REST API client (``client.py``), its wire format (``wire.py``) and ``probe.py``.

``wire.ASSUMPTIONS`` lists everything the connector guesses about the undocumented parts of
inwise's API, each with what would settle it (``sheets-connector probe`` records the answers
that do).
"""
from __future__ import annotations

from .client import MESSAGE_LIMIT, NO_ID_MESSAGE, CancelFlag, InwiseClient
from .wire import (
    API_ADDRESS,
    API_KEY_HEADER,
    ASSUMPTIONS,
    CONFLICT_EXAMPLE,
    FEED_PAGE_SIZE,
    KEY_INVALID_TEXT,
    KEY_MISSING_TEXT,
    REST_NOT_ENABLED_TEXT,
    Assumption,
    FeedPage,
    batch_body,
    batch_fields_mapping,
    build_batch_csv,
    contact_body,
    feed_contact,
    is_domestic,
    key_refusal,
    local_mobile,
    parse_conflict,
    parse_contact_id,
    parse_feed,
    parse_feed_answer,
    parse_feed_page,
    parse_message,
)

__all__ = [
    "API_ADDRESS",
    "API_KEY_HEADER",
    "ASSUMPTIONS",
    "CONFLICT_EXAMPLE",
    "FEED_PAGE_SIZE",
    "KEY_INVALID_TEXT",
    "KEY_MISSING_TEXT",
    "MESSAGE_LIMIT",
    "NO_ID_MESSAGE",
    "REST_NOT_ENABLED_TEXT",
    "Assumption",
    "CancelFlag",
    "FeedPage",
    "InwiseClient",
    "batch_body",
    "batch_fields_mapping",
    "build_batch_csv",
    "contact_body",
    "feed_contact",
    "is_domestic",
    "key_refusal",
    "local_mobile",
    "parse_conflict",
    "parse_contact_id",
    "parse_feed",
    "parse_feed_answer",
    "parse_feed_page",
    "parse_message",
]
