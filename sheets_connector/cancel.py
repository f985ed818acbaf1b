"""The cancel token every run takes: how a Ctrl-C, a SIGTERM or a web request stops a run.

The library never sees ``KeyboardInterrupt`` as its way of being stopped: an entry point (the
CLI's signal handler, the service's shutdown) calls ``cancel()``, and each stage checks
``is_set()`` at a safe point (the upsert pool starts no new request, the batch loop sends no new
chunk, the pull requests no new page).  What is already on its way finishes and is reported.

A second Ctrl-C is the user's "stop now": the CLI calls ``interrupt()``, which raises
``KeyboardInterrupt`` in the main thread - unless the run is inside a ``critical()`` step that
must not be cut (a feed page being received and journalled, the workbook being saved); then the
interrupt is raised when that step ends.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CancelToken:
    """A ``threading.Event`` with a reason, plus the critical sections a hard stop must wait for."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.RLock()  # re-entrant: the signal handler runs in the main thread
        self._critical = 0
        self._deferred = False
        self.reason = ""
        # who stopped the run: a person (Ctrl-C, the menu) is told which rows were not sent; a
        # deploy or shutdown (SIGTERM) leaves those rows with their previous result instead
        self.by_user = True

    def cancel(self, reason: str = "stopped by you", *, by_user: bool = True) -> None:
        if not self._event.is_set():
            self.reason = reason
            self.by_user = by_user
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    @contextmanager
    def critical(self) -> Iterator[None]:
        """A step that a hard stop (``interrupt()``) waits for instead of cutting."""
        with self._lock:
            self._critical += 1
        try:
            yield
        finally:
            with self._lock:
                self._critical -= 1
                raise_now = self._critical == 0 and self._deferred
                if raise_now:
                    self._deferred = False
            if raise_now:
                raise KeyboardInterrupt

    def interrupt(self) -> None:
        """Stop now (called from a signal handler in the main thread): cancel, and raise
        ``KeyboardInterrupt`` here unless a critical step is running (then at its end)."""
        self.cancel()
        with self._lock:
            if self._critical:
                self._deferred = True
                return
        raise KeyboardInterrupt
