"""Fault and cost injection for the sandbox's API paths, and the request counters.

:class:`Faults` are the settings (latency, shares of 5xx / 429 / dropped connections, a cap on
concurrent requests, a pause in the middle of a feed answer); :class:`FaultInjector` decides,
for each API request as it arrives, whether it is admitted, delayed or failed
(:meth:`FaultInjector.admit`), and counts how it ended (:meth:`FaultInjector.finish`).
Nothing here touches contacts or HTTP.
"""
from __future__ import annotations

import dataclasses
import math
import random
import threading
from dataclasses import dataclass
from typing import Any

API_PREFIX = "/rest/v1"  # mirrors https://api.inwise.com/rest/v1
ANSWERS = ("json", "html", "truncated")  # Faults.answer
#: What a server that is not inwise answers at base_url (Faults.answer = "html").
HTML_PAGE = ("<!DOCTYPE html>\n<html><head><title>Down for maintenance</title></head>\n"
             "<body><h1>We'll be back soon</h1><p>Please sign in again later.</p></body></html>\n")
GATHER_TIMEOUT_S = 10.0  # how long a gathered request waits for the others at most


@dataclass
class Faults:
    """Fault and cost injection for the ``/rest/v1`` API paths (never for ``/_sandbox``).

    Rates are shares of API requests between 0 and 1.  One random draw per request picks at
    most one fault, in this order: drop, error, rate limit (so the shares are exact as long as
    they add up to at most 1).  ``answer`` stands something else in inwise's place at
    ``base_url``: ``"html"`` answers every API request 200 with an HTML page (a maintenance or
    login page, a web app; nothing is processed), ``"truncated"`` processes it and cuts the JSON
    answer in half.  ``retry_after_s`` is sent as ``Retry-After``; a whole number is
    sent as an integer (standard HTTP), a fraction such as 0.2 as a decimal (a sandbox-only
    convenience for fast tests).  ``feed_pause_ms`` makes every 200 answer of GET /contacts
    stop after its headers and half its body for that long before the rest is sent (the
    contacts have already left the feed by then), so a test can kill a client in that window.
    ``gather`` makes the next that many API requests wait until they are all in flight together
    (up to ``GATHER_TIMEOUT_S``), so a test proves a client sends that many at once without
    relying on timing; a client that never gets there is answered after the timeout.
    """

    latency_ms: float = 0  # fixed delay added to every API request
    jitter_ms: float = 0  # plus a uniform random delay of 0..jitter_ms
    error_rate: float = 0  # share answered with error_status (request not processed)
    error_status: int = 503
    rate_limit_rate: float = 0  # share answered 429 + Retry-After (request not processed)
    retry_after_s: float = 1
    drop_rate: float = 0  # share whose connection is closed without any answer
    max_concurrent: int = 0  # 0 = unlimited; above that, 429 + Retry-After at once
    feed_pause_ms: float = 0  # pause in the middle of each GET /contacts answer
    # what answers instead of inwise's JSON: "html" = a 200 maintenance/login page (request not
    # processed); "truncated" = the request is processed and its JSON answer cut in half
    answer: str = "json"
    gather: int = 0  # the next N requests wait until N are in flight together (0 = off)
    seed: int | None = None  # seed of the random generator (reproducible runs)

    def validate(self) -> Faults:
        """Raise ValueError/TypeError with a plain message if a value is out of range."""

        def check(name: str, low: float, high: float | None = None, *, whole: bool = False) -> None:
            value: Any = getattr(self, name)
            typed = isinstance(value, int) if whole else isinstance(value, (int, float))
            if isinstance(value, bool) or not typed or (isinstance(value, float) and math.isnan(value)):
                kind = "a whole number" if whole else "a number"
                raise TypeError(f"Fault setting {name} must be {kind}, got {value!r}.")
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                raise ValueError(f"Fault setting {name} must be {bound}, got {value!r}.")

        check("latency_ms", 0)
        check("jitter_ms", 0)
        check("error_rate", 0, 1)
        check("error_status", 400, 599, whole=True)
        check("rate_limit_rate", 0, 1)
        check("retry_after_s", 0)
        check("drop_rate", 0, 1)
        check("max_concurrent", 0, whole=True)
        check("feed_pause_ms", 0)
        if self.answer not in ANSWERS:
            raise ValueError(f"Fault setting answer must be one of {', '.join(ANSWERS)}, got {self.answer!r}.")
        check("gather", 0, whole=True)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise TypeError(f"Fault setting seed must be a whole number or null, got {self.seed!r}.")
        return self

    def replace(self, **changes: Any) -> Faults:
        """A validated copy with some settings changed; unknown names raise TypeError."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            known = ", ".join(f.name for f in dataclasses.fields(self))
            raise TypeError(f"Unknown fault setting(s): {', '.join(unknown)}. Known: {known}.")
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def retry_after_header(seconds: float) -> str:
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:g}"


def fault_message(status: int) -> str:
    if status == 429:
        return "Too many requests; retry later. (sandbox fault injection)"
    if status >= 500:
        return "Service temporarily unavailable. (sandbox fault injection)"
    return "Request refused. (sandbox fault injection)"


@dataclass
class FailRule:
    """One ``fail_next`` entry: the next ``remaining`` matching API requests fail this way."""

    remaining: int
    status: int
    path: str | None  # canonical lower-case relative path, e.g. "/contacts"
    method: str | None
    retry_after: float | None
    drop: bool
    after_processing: bool
    message: str | None = None  # the answer's {"message": ...}; None = a generic fault text

    def matches(self, method: str, rel_path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path == rel_path.lower()

    def answer(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON payload, headers) of the failed answer."""
        headers = {"Retry-After": retry_after_header(self.retry_after)} if self.retry_after is not None else {}
        return self.status, {"message": self.message or fault_message(self.status)}, headers


@dataclass
class Admission:
    """What was decided for one API request when it arrived."""

    over_capacity: bool = False
    counted: bool = False  # holds one of the max_concurrent slots
    delay_s: float = 0.0
    fault: FailRule | None = None  # a fault to apply (random faults use a one-off rule)


class FaultInjector:
    """The current :class:`Faults`, the ``fail_next`` queue and the request counters (thread-safe)."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._initial = dataclasses.replace(faults or Faults()).validate()
        self._lock = threading.Lock()
        self._faults = dataclasses.replace(self._initial)
        self._rng = random.Random(self._faults.seed)
        self._rules: list[FailRule] = []
        self._stats: dict[str, dict[str, int]] = {}
        self._total = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._busy = 0  # requests holding a max_concurrent slot
        self._delay_ms = 0.0  # latency + jitter injected so far
        self._gathering = threading.Condition(self._lock)
        self._gather_left = self._faults.gather  # requests still to gather
        self._gather_arrived = 0

    @property
    def faults(self) -> Faults:
        """A copy of the current fault settings."""
        with self._lock:
            return dataclasses.replace(self._faults)

    def set_faults(self, **changes: Any) -> None:
        with self._lock:
            new = self._faults.replace(**changes)
            if "seed" in changes:
                self._rng = random.Random(new.seed)
            if "gather" in changes:
                self._gather_left, self._gather_arrived = new.gather, 0
                self._gathering.notify_all()
            self._faults = new

    def fail_next(self, count: int = 1, *, status: int = 503, path: str | None = None,
                  method: str | None = None, retry_after: float | None = None, drop: bool = False,
                  after_processing: bool = False, message: str | None = None) -> None:
        """Queue a rule; see ``Sandbox.fail_next``.  Raises ValueError on a bad argument."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"fail_next count must be a whole number >= 0, got {count!r}.")
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"fail_next status must be an HTTP error status 400-599, got {status!r}.")
        if retry_after is not None and (
            isinstance(retry_after, bool) or not isinstance(retry_after, (int, float)) or retry_after < 0
        ):
            raise ValueError(f"fail_next retry_after must be a number >= 0, got {retry_after!r}.")
        if message is not None and not isinstance(message, str):
            raise ValueError(f"fail_next message must be text, got {message!r}.")
        rel = None
        if path is not None:
            rel = str(path).split("?", 1)[0]
            if rel.startswith(API_PREFIX):
                rel = rel[len(API_PREFIX):]
            rel = ("/" + rel.strip("/")).lower()
        if count == 0:
            return
        rule = FailRule(remaining=count, status=status, path=rel, method=method.upper() if method else None,
                        retry_after=retry_after, drop=bool(drop), after_processing=bool(after_processing),
                        message=message)
        with self._lock:
            self._rules.append(rule)

    def admit(self, method: str, rel_path: str) -> Admission:
        """Called when an API request arrives: count it, check capacity, pick a fault and delay."""
        decision = Admission()
        with self._lock:
            faults = self._faults
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            if faults.max_concurrent and self._busy >= faults.max_concurrent:
                decision.over_capacity = True
                return decision
            if self._gather_arrived < self._gather_left:
                self._gather_arrived += 1
                self._gathering.notify_all()
                self._gathering.wait_for(lambda: self._gather_arrived >= self._gather_left, timeout=GATHER_TIMEOUT_S)
            self._busy += 1
            decision.counted = True
            for rule in self._rules:
                if rule.matches(method, rel_path):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    decision.fault = rule
                    break
            draw = self._rng.random()
            if decision.fault is None:
                if draw < faults.drop_rate:
                    decision.fault = _one_off(0, drop=True)
                elif draw < faults.drop_rate + faults.error_rate:
                    decision.fault = _one_off(faults.error_status)
                elif draw < faults.drop_rate + faults.error_rate + faults.rate_limit_rate:
                    decision.fault = _one_off(429, retry_after=faults.retry_after_s)
            jitter = self._rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0.0
            decision.delay_s = (faults.latency_ms + jitter) / 1000.0
            self._delay_ms += faults.latency_ms + jitter
        return decision

    def finish(self, decision: Admission, stat_key: str, outcome: str) -> None:
        """Record the outcome (status or "dropped") and leave the in-flight count."""
        with self._lock:
            by_status = self._stats.setdefault(stat_key, {})
            by_status[outcome] = by_status.get(outcome, 0) + 1
            self._total += 1
            self._in_flight -= 1
            if decision.counted:
                self._busy -= 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {key: dict(by_status) for key, by_status in sorted(self._stats.items())},
                "total": self._total,
                "max_in_flight": self._max_in_flight,
                "in_flight": self._in_flight,
                "delay_ms": round(self._delay_ms, 3),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = {}
            self._total = 0
            self._max_in_flight = self._in_flight
            self._delay_ms = 0.0

    def reset(self) -> None:
        """Counters zeroed, fail_next queue emptied, faults back to the start values."""
        with self._lock:
            self._rules.clear()
            self._stats = {}
            self._total = 0
            self._max_in_flight = self._in_flight
            self._delay_ms = 0.0
            self._faults = dataclasses.replace(self._initial)
            self._rng = random.Random(self._faults.seed)
            self._gather_left, self._gather_arrived = self._faults.gather, 0
            self._gathering.notify_all()


def _one_off(status: int, *, drop: bool = False, retry_after: float | None = None) -> FailRule:
    """A one-off rule for a fault picked at random by the ``Faults`` rates."""
    return FailRule(remaining=1, status=status, path=None, method=None, retry_after=retry_after,
                    drop=drop, after_processing=False)
