"""Structured log lines: one JSON object per line on stderr, one per request and one per run.

Callers pass only what is safe to log (method, path, status, run ids, counts); headers and
bodies are never passed, so a signature or secret cannot end up in a line.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOGGER_NAME = "sheets_connector.service"
logger = logging.getLogger(LOGGER_NAME)


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
        head = json.dumps({"time": stamp, "level": record.levelname.lower()})[:-1]
        line = head + ", " + msg[1:]
        if record.exc_info and record.exc_info[0] is not None:
            # the exception type only: a message or traceback may quote a value it should not
            line = line[:-1] + ', "exception": ' + json.dumps(record.exc_info[0].__name__) + "}"
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
