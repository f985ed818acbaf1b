"""Reading a kept feed answer: which items are contacts, and what is wrong with the others.

The raw bytes of every ``GET /contacts`` answer are committed before this runs (see store.py),
so nothing here can lose a contact: an answer that cannot be read stays kept as
``unreadable`` and an item that is not a contact is listed as a problem; both are read again
by later runs (a newer version may understand them), and neither blocks the good items.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..inwise import feed_contact, parse_feed_answer

AnswerState = Literal["received", "parsed", "partial", "unreadable"]
MAX_PROBLEMS = 20  # per answer, in the store and in messages


@dataclass
class ParsedAnswer:
    state: AnswerState
    contacts: list[tuple[str, int]] = field(default_factory=list)  # (contact id, position in the answer)
    problems: list[str] = field(default_factory=list)  # plain words, at most MAX_PROBLEMS
    bad_items: int = 0


def contact_id(item: Any) -> str | None:
    """A feed item's contact id as text ("439130001"), or None if the item is not a contact."""
    if not isinstance(item, dict):
        return None
    value = item.get("id")
    if value is None:
        value = feed_contact(item).get("id")  # the id under another key inwise may use
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, float) and value.is_integer() and value > 0:
        return str(int(value))
    if isinstance(value, str) and value.strip():
        text = value.strip()
        return str(int(text)) if text.isdigit() else text
    return None


def _what(item: Any) -> str:
    if item is None:
        return "is empty (null)"
    if not isinstance(item, dict):
        text = repr(item)
        return f"is {text[:40]}{'…' if len(text) > 40 else ''}, not a contact"
    return "has no contact id"


def parse(raw: bytes) -> tuple[ParsedAnswer, list[Any] | None]:
    """The contacts of one answer (and the decoded items, for a caller that wants them)."""
    items = parse_feed_answer(raw)
    if items is None:
        start = raw[:80].decode("utf-8", "replace").strip()
        return ParsedAnswer("unreadable", problems=[f"not a list of contacts (it starts with {start!r})"]), None
    parsed = ParsedAnswer("parsed")
    for pos, item in enumerate(items):
        value = item.get("id") if type(item) is dict else None
        # the id as inwise sends it (a positive number) is read here; any other, by contact_id
        cid = str(value) if type(value) is int and value > 0 else contact_id(item)
        if cid is None:
            parsed.bad_items += 1
            if len(parsed.problems) < MAX_PROBLEMS:
                parsed.problems.append(f"item {pos + 1} {_what(item)}")
            continue
        parsed.contacts.append((cid, pos))
    if parsed.bad_items:
        parsed.state = "partial"
    return parsed, items
