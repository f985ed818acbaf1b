"""Structured log lines: one JSON object per line on stderr, one per request and one per run.

Callers pass only what is safe to log (method, path, status, run ids, counts); headers and
bodies are never passed, so a signature or secret cannot end up in a line.

An unexpected error's line carries the exception's type, message and traceback, so the
administrator the user is sent to can find the cause.  Both are scrubbed first (``scrub``): a
message may quote a cell or a request (``KeyError('dana@example.com')``), so email addresses,
phone-like digit runs, long tokens and every secret the service knows (``hide``: webhook
secrets, the inwise API key) are replaced by ``<email>``, ``<number>``, ``<token>``, ``<secret>``.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LOGGER_NAME = "sheets_connector.service"
logger = logging.getLogger(LOGGER_NAME)


_hidden: set[str] = set()
_run_id: ContextVar[str | None] = ContextVar("run_id", default=None)


@contextmanager
def run_context(run_id: str) -> Iterator[None]:
    """Every line logged inside (by the service or the library, in this thread) names the run."""
    token = _run_id.set(run_id)
    try:
        yield
    finally:
        _run_id.reset(token)

_EMAIL = re.compile(r"[^\s'\"<>()\[\],;:]+@[^\s'\"<>()\[\],;:]+")
_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")  # phones, ids: 7+ digits with separators
_TOKEN = re.compile(r"\b(?=[A-Za-z_-]*\d)(?=[\d_-]*[A-Za-z])[A-Za-z0-9_-]{24,}\b")  # keys: letters and digits
_FRAME_LINE = re.compile(r'^  File "[^"]*", line \d+')


def hide(*secrets: str | bytes) -> None:
    """Values never to appear in a line (the webhook secrets, the inwise API key)."""
    for secret in secrets:
        text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
        if len(text) >= 4:
            _hidden.add(text)


def scrub(text: str) -> str:
    """``text`` without secrets or personal data (see the module's docstring)."""
    for secret in sorted(_hidden, key=len, reverse=True):
        text = text.replace(secret, "<secret>")
    text = _EMAIL.sub("<email>", text)
    text = _TOKEN.sub("<token>", text)
    return "\n".join(ln if _FRAME_LINE.match(ln) else _NUMBER.sub("<number>", ln) for ln in text.split("\n"))


def line(name: str, **fields: Any) -> str:
    """The JSON text of an event, for a warning or an error (``event`` logs at info)."""
    return json.dumps({"event": name, **fields}, ensure_ascii=False, default=str)


def event(name: str, **fields: Any) -> None:
    logger.info(line(name, **fields))


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if not msg.startswith("{"):  # a plain message from a library: wrap it
            msg = json.dumps({"event": "message", "logger": record.name, "message": msg}, ensure_ascii=False)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        head_fields: dict[str, Any] = {"time": stamp, "level": record.levelname.lower()}
        run_id = _run_id.get()
        if run_id is not None and '"run_id"' not in msg:
            head_fields["run_id"] = run_id
        head = json.dumps(head_fields)[:-1]
        line = head + ", " + msg[1:]
        if record.exc_info and record.exc_info[0] is not None:
            kind, exc, tb = record.exc_info
            detail = {"exception": kind.__name__, "message": scrub(str(exc)),
                      "traceback": scrub("".join(traceback.format_exception(kind, exc, tb)).rstrip())}
            line = line[:-1] + ", " + json.dumps(detail, ensure_ascii=False)[1:]
        return line


def configure(level: int = logging.INFO) -> None:
    """Send the service's lines, the library's warnings and uvicorn's messages to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    for name, at in (("sheets_connector", logging.WARNING), (LOGGER_NAME, level), ("uvicorn.error", level)):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(at)
        log.propagate = False
