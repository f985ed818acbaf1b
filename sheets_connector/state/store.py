"""The state store over SQL, written once for both engines: ``SqliteStore`` (one file, db.py)
and ``PostgresStore`` (a server shared by several machines, pg.py).  runs.py holds the run
history and the locks (with fencing: every write a run makes here first proves it still holds
its locks, ``_write``).

The feed belongs to an inwise *account*: every answer of ``GET /contacts`` is committed raw
(fsynced) before it is read, then its contact ids are indexed.  Its bytes (``feed_raw``) are
written once; reading it updates only its small ``feed_answers`` row.  Delivery belongs to each *sheet*:
a sheet receives every contact of its account's feed kept since the sheet was registered (its
first run) and not yet delivered to it; ``commit_saved`` marks them delivered once the sheet
holding them was saved.

Rows: per sheet and row key, the fingerprint of the payload inwise last answered, that answer,
and whether the sheet shows it yet (``answered`` -> ``written``).  Answers are committed as they
arrive, so a rerun after a crash writes what the sheet missed without sending those rows again.
"""
from __future__ import annotations

import json
import time
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from json.encoder import encode_basestring_ascii as _text
from pathlib import Path
from typing import Any

from ..inwise import feed_contact
from . import feed
from .db import Db
from .model import FeedAnswer, RowRecord
from .runs import LEASE_S, SHARED_LEASE_S, RunTables

# rows' outcomes as compact JSON (ASCII: a lone surrogate from a cell stays storable)
_encode = json.JSONEncoder(separators=(",", ":")).encode
_PLAIN = frozenset(("row", "outcome", "contact_id", "key"))


def _json(d: Mapping[str, Any]) -> str:
    """``d`` as JSON.  Most rows' outcomes are {row, outcome[, contact_id][, key]}: those are
    written directly (a fifth of json's time per call, which on 100,000 rows is 0.4 s); any
    other shape goes through json."""
    row, outcome, cid, key = d.get("row"), d.get("outcome"), d.get("contact_id", 0), d.get("key")
    if (d.keys() <= _PLAIN and type(row) is int and type(outcome) is str and type(cid) is int
            and type(key) is dict and len(key) == 2 and type(key.get("kind")) is str and type(key.get("value")) is str):
        ident = f',"contact_id":{cid:d}' if "contact_id" in d else ""
        return (f'{{"row":{row:d},"outcome":{_text(outcome)}{ident},'
                f'"key":{{"kind":{_text(key["kind"])},"value":{_text(key["value"])}}}}}')
    return _encode(d)


# a list of texts for SQLite's json_each: UTF-8 as it is (no \u escapes for SQLite to pair up)
_json_list = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _decode_all(texts: list[str]) -> list[Any]:
    """Each JSON text decoded, in one call for them all (100,000 rows: 0.2 s instead of 0.5 s)."""
    try:
        values = json.loads(f"[{','.join(texts)}]")
        if isinstance(values, list) and len(values) == len(texts):
            return values
    except ValueError:
        pass
    return [json.loads(t) for t in texts]  # one of them is not a JSON value: said by json, as it is


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class SqlStore(RunTables):
    """The state store's statements (``?`` placeholders, the SQL both engines speak)."""

    path: Path
    url: str  # where it is, for messages (a file path, or the server's URL without its password)

    def close(self) -> None:
        self.stop_heartbeat()
        self.db.close()

    # -- room and meta ------------------------------------------------------------------------

    def ensure_room(self, needed: int, grow: int | None = None) -> None:
        """Raise StateError unless the store can take ``needed`` more bytes; when it must grow,
        it grows by ``grow`` (default: ``needed``) at once (see db.py)."""
        self.db.ensure_room(needed, grow or needed)

    def meta_get(self, key: str) -> str | None:
        row = self.db.one("SELECT value FROM meta WHERE key=?", (key,))
        return None if row is None else str(row[0])

    def meta_set(self, key: str, value: str) -> None:
        with self._write() as cur:
            cur.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (key, value))

    # -- the account's feed -------------------------------------------------------------------

    def feed_request_started(self, account: str, run_id: int | None) -> None:
        """A feed request is about to go out: if this process dies before its answer is kept,
        the next reader of this account's feed learns that an answer may be lost."""
        with self._write() as cur:
            cur.execute("INSERT INTO feed_inflight(account, run_id, started_at) VALUES(?, ?, ?) ON CONFLICT(account) "
                        "DO UPDATE SET run_id=excluded.run_id, started_at=excluded.started_at", (account, run_id, utc_now()))

    def feed_request_ended(self, account: str) -> None:
        with self._write() as cur:
            cur.execute("DELETE FROM feed_inflight WHERE account=?", (account,))

    def take_interrupted_feed_request(self, account: str) -> tuple[int | None, str] | None:
        """(run id, started at) of a feed request whose process died before its answer was kept,
        or None; forgotten once taken.  Call it holding the account's feed lock."""
        row = self.db.one("SELECT run_id, started_at FROM feed_inflight WHERE account=?", (account,))
        if row is None:
            return None
        self.feed_request_ended(account)
        return (row[0], str(row[1]))

    def add_feed_answer(self, account: str, raw: bytes, *, run_id: int | None = None,
                        origin: str = "inwise", received: float | None = None) -> FeedAnswer:
        """Keep one answer: its raw bytes first (fsynced, with the in-flight mark cleared in the
        same commit), then the ids of the contacts in it.  ``received`` (``time.perf_counter()``
        when the answer's last byte arrived) measures the loss window, kept as ``commit_ms``."""
        with self.db.write(durable=True) as cur:
            answer_id = int(cur.execute(
                "INSERT INTO feed_answers(account, run_id, received_at, origin, state) VALUES(?, ?, ?, ?, ?) "
                "RETURNING id", (account, run_id, utc_now(), origin, "received")).fetchone()[0])
            # the bytes in a table of their own, written once: reading the answer then updates
            # only its small feed_answers row (see schema.py, version 4)
            cur.execute("INSERT INTO feed_raw(answer_id, raw) VALUES(?, ?)", (answer_id, raw))
            cur.execute("DELETE FROM feed_inflight WHERE account=?", (account,))
        commit_ms = None if received is None else round((time.perf_counter() - received) * 1000, 2)
        return self._index_answer(answer_id, account, raw, commit_ms)

    def _index_answer(self, answer_id: int, account: str, raw: bytes, commit_ms: float | None) -> FeedAnswer:
        parsed, items = feed.parse(raw)
        with self.db.write() as cur:
            if self.db.arrays:  # PostgreSQL: one array statement, not a pipeline (see record_answers)
                cur.execute(
                    "INSERT INTO feed_contacts(account, contact_id, answer_id, pos) SELECT ?, c, ?, p FROM "
                    "unnest(CAST(? AS text[]), CAST(? AS integer[])) AS u(c, p) ON CONFLICT DO NOTHING",
                    (account, answer_id, [cid for cid, _ in parsed.contacts], [pos for _, pos in parsed.contacts]))
            elif self.db.json_lists:  # SQLite: the ids as one JSON list, by position (null: not a contact)
                ids: list[str | None] = [None] * (parsed.contacts[-1][1] + 1 if parsed.contacts else 0)
                for cid, pos in parsed.contacts:
                    ids[pos] = cid
                cur.execute(
                    "INSERT INTO feed_contacts(account, contact_id, answer_id, pos) SELECT ?, value, ?, key "
                    "FROM json_each(?) WHERE value IS NOT NULL ON CONFLICT DO NOTHING",
                    (account, answer_id, _json_list(ids)))
            else:
                cur.executemany(
                    "INSERT INTO feed_contacts(account, contact_id, answer_id, pos) VALUES(?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING", [(account, cid, answer_id, pos) for cid, pos in parsed.contacts])
            cur.execute(
                "UPDATE feed_answers SET state=?, contacts=?, problems=?, commit_ms=COALESCE(?, commit_ms) WHERE id=?",
                (parsed.state, len(parsed.contacts), json.dumps(parsed.problems), commit_ms, answer_id))
        return FeedAnswer(answer_id, account, parsed.state, len(parsed.contacts), parsed.problems, utc_now(), commit_ms,
                          items=items)

    def reparse_feed(self, account: str) -> list[FeedAnswer]:
        """Read again the answers kept but not (fully) read: those a crash left unread, and those
        an older version could not understand.  Returns the ones that now give more contacts."""
        rows = self.db.query(
            "SELECT id, contacts FROM feed_answers WHERE account=? AND state IN ('received', 'partial', 'unreadable') "
            "ORDER BY id", (account,))
        better = []
        for answer_id, before in rows:  # one answer's bytes in memory at a time
            raw = self.feed_answer_raw(int(answer_id))
            if raw is None:
                continue
            answer = self._index_answer(int(answer_id), account, raw, None)
            if answer.contacts > int(before):
                better.append(answer)
        return better

    def feed_answers(self, account: str | None = None, *, problems_only: bool = False) -> list[FeedAnswer]:
        sql = "SELECT id, account, state, contacts, problems, received_at, commit_ms FROM feed_answers"
        where, args = [], []
        if account is not None:
            where.append("account=?")
            args.append(account)
        if problems_only:
            where.append("state != 'parsed'")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [FeedAnswer(int(r[0]), r[1], r[2], int(r[3]), json.loads(r[4]), r[5], r[6])
                for r in self.db.query(sql + " ORDER BY id", tuple(args))]

    def feed_answer_raw(self, answer_id: int) -> bytes | None:
        row = self.db.one("SELECT raw FROM feed_raw WHERE answer_id=?", (answer_id,))
        return None if row is None else bytes(row[0])

    def newest_feed_contact(self, account: str) -> int | None:
        # ids are kept as canonical digits (no leading zeros): the longest, then the greatest
        # text, is the greatest number; the few non-numeric ids an answer may hold are skipped
        rows = self.db.query("SELECT contact_id FROM feed_contacts WHERE account=? "
                             "ORDER BY length(contact_id) DESC, contact_id DESC LIMIT 20", (account,))
        return next((int(r[0]) for r in rows if str(r[0]).isdigit()), None)

    def kept_contacts(self, account: str, ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            marks = ", ".join("?" * len(part))
            found.update(str(r[0]) for r in self.db.query(
                f"SELECT contact_id FROM feed_contacts WHERE account=? AND contact_id IN ({marks})", (account, *part)))
        return found

    # -- delivery to sheets -------------------------------------------------------------------

    def register_sheet(self, sheet: str, account: str) -> None:
        """A sheet receives the account's contacts kept from its first run on (not the history
        other sheets pulled before it existed)."""
        with self._write() as cur:
            if cur.execute("SELECT 1 FROM sheets WHERE sheet=? AND account=?", (sheet, account)).fetchone():
                return
            last = cur.execute("SELECT COALESCE(MAX(id), 0) FROM feed_answers").fetchone()[0]
            cur.execute("INSERT INTO sheets(sheet, account, from_answer, registered_at) VALUES(?, ?, ?, ?)",
                        (sheet, account, int(last) + 1, utc_now()))

    def register_sheet_from(self, sheet: str, account: str, answer_id: int) -> None:
        """Register (or widen) a sheet so that it receives the account's answers from ``answer_id``."""
        with self._write() as cur:
            cur.execute("INSERT INTO sheets(sheet, account, from_answer, registered_at) VALUES(?, ?, ?, ?) "
                        "ON CONFLICT(sheet, account) DO UPDATE SET from_answer=CASE WHEN excluded.from_answer < sheets.from_answer "
                        "THEN excluded.from_answer ELSE sheets.from_answer END",
                        (sheet, account, answer_id, utc_now()))

    def iter_pending(self, sheet: str, account: str) -> Iterator[dict[str, Any]]:
        """The account's kept contacts not yet delivered to this sheet, in the order kept, each
        read from its answer's raw bytes (one answer decoded at a time: memory stays flat)."""
        for _, _, contact in self.iter_pending_at(sheet, account):
            if contact is not None:
                yield contact

    def iter_pending_at(self, sheet: str, account: str, known: Container[int] = (), *, canonical: bool = True
                        ) -> Iterator[tuple[int, int, Any]]:
        """(answer id, position, contact) of each contact ``iter_pending`` gives; for the answers in
        ``known`` (their reader indexed them as they were kept) the contact is None, not decoded again.
        ``canonical`` False: the item as inwise sent it, for a reader of its own (``wire.feed_contact``)."""
        pending = self.db.query(
            "SELECT c.contact_id, c.answer_id, c.pos FROM feed_contacts c "
            "JOIN sheets s ON s.sheet=? AND s.account=c.account "
            "WHERE c.account=? AND c.answer_id >= s.from_answer AND NOT EXISTS ("
            "  SELECT 1 FROM deliveries d WHERE d.sheet=? AND d.account=c.account AND d.contact_id=c.contact_id) "
            "ORDER BY c.answer_id, c.pos", (sheet, account, sheet))
        current_id, items = None, None
        for cid, answer_id, pos in pending:
            answer_id, pos = int(answer_id), int(pos)
            if answer_id in known:
                yield answer_id, pos, None
                continue
            if answer_id != current_id:
                raw = self.feed_answer_raw(answer_id)
                current_id, items = answer_id, (feed.parse(raw)[1] if raw is not None else None)
            if items is not None and pos < len(items) and feed.contact_id(items[pos]) == cid:
                # one shape, whatever shape inwise sent
                yield answer_id, pos, feed_contact(items[pos]) if canonical else items[pos]

    def mark_delivered(self, sheet: str, account: str, ids: Iterable[object], run_id: int | None = None) -> None:
        self.commit_saved(sheet, account, run_id, (), ids)

    def commit_saved(self, sheet: str, account: str | None, run_id: int | None, keys: Iterable[str],
                     delivered: Iterable[object]) -> None:
        """After the sheet was saved: these rows show their status, these contacts are in its tab."""
        keys, ids = list(keys), [str(i) for i in delivered] if account is not None else []
        with self._write() as cur:
            if self.db.arrays:  # PostgreSQL: one statement per list, not a statement per row
                cur.execute("UPDATE rows SET state='written' WHERE sheet=? AND key = ANY(?)", (sheet, keys))
                cur.execute("INSERT INTO deliveries(sheet, account, contact_id, run_id) "
                            "SELECT ?, ?, unnest(CAST(? AS text[])), ? ON CONFLICT DO NOTHING", (sheet, account, ids, run_id))
                return
            if self.db.json_lists:  # SQLite: each list as one JSON text
                cur.execute("UPDATE rows SET state='written' WHERE sheet=? AND key IN (SELECT value FROM json_each(?))",
                            (sheet, _json_list(keys)))
                cur.execute("INSERT INTO deliveries(sheet, account, contact_id, run_id) SELECT ?, ?, value, ? "
                            "FROM json_each(?) WHERE true ON CONFLICT DO NOTHING", (sheet, account, run_id, _json_list(ids)))
                return
            cur.executemany("UPDATE rows SET state='written' WHERE sheet=? AND key=?", [(sheet, k) for k in keys])
            cur.executemany(
                "INSERT INTO deliveries(sheet, account, contact_id, run_id) VALUES(?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(sheet, account, i, run_id) for i in ids])

    # -- rows -----------------------------------------------------------------------------------

    def row_records(self, sheet: str) -> dict[str, RowRecord]:
        rows = self.db.query("SELECT key, fingerprint, state, data, status, synced_at FROM rows WHERE sheet=?", (sheet,))
        return {r[0]: RowRecord(r[0], r[1], r[2], o, r[4], r[5]) for r, o in zip(rows, _decode_all([r[3] for r in rows]))}

    def record_answers(self, sheet: str, run_id: int | None,
                       answers: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Commit inwise's answers for rows as they arrive: (key, payload fingerprint, outcome)."""
        if not answers:
            return
        upsert = ("ON CONFLICT(sheet, key) DO UPDATE SET fingerprint=excluded.fingerprint, state='answered', "
                  "outcome=excluded.outcome, data=excluded.data, status=NULL, synced_at=NULL, run_id=excluded.run_id")
        with self._write() as cur:
            if self.db.arrays:
                # PostgreSQL: one statement with array parameters, not a pipeline of one per row - a
                # process paused inside a pipeline keeps its locks with no idle timeout to end them,
                # and the answers' committer runs all through the send.  One row per key (the last
                # answer wins, as it would row after row): ON CONFLICT cannot touch a row twice.
                last = {key: (fp, o) for key, fp, o in answers}
                cur.execute(
                    "INSERT INTO rows(sheet, key, fingerprint, state, outcome, data, status, synced_at, run_id) "
                    "SELECT ?, k, f, 'answered', o, d, NULL, NULL, ? FROM unnest(CAST(? AS text[]), "
                    "CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[])) AS u(k, f, o, d) " + upsert,
                    (sheet, run_id, list(last), [fp for fp, _ in last.values()],
                     [o.get("outcome", "") for _, o in last.values()], [_json(o) for _, o in last.values()]))
                return
            cur.executemany(
                "INSERT INTO rows(sheet, key, fingerprint, state, outcome, data, status, synced_at, run_id) "
                "VALUES(?, ?, ?, 'answered', ?, ?, NULL, NULL, ?) " + upsert,
                [(sheet, key, fp, o.get("outcome", ""), _json(o), run_id) for key, fp, o in answers])

    def record_statuses(self, sheet: str,
                        statuses: Sequence[tuple[str, str, str | None, dict[str, Any] | None]]) -> None:
        """Before the save: the exact text going into each row's cell (key, status, synced at,
        and the settled outcome when it matters later - else None), so a rerun after a kill
        writes the same words."""
        with self._write() as cur:
            # a row without a settled outcome keeps the one it has
            if self.db.arrays:
                # PostgreSQL: one array statement, not a pipeline of one per row (see record_answers).
                # One source row per key, the last one winning as it would row after row (UPDATE ...
                # FROM takes an arbitrary one of several).
                last = {key: (status, synced, o) for key, status, synced, o in statuses}
                cur.execute(
                    "UPDATE rows SET status=u.s, synced_at=u.t, outcome=COALESCE(u.o, rows.outcome), "
                    "data=COALESCE(u.d, rows.data) FROM unnest(CAST(? AS text[]), CAST(? AS text[]), "
                    "CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[])) AS u(k, s, t, o, d) "
                    "WHERE rows.sheet=? AND rows.key=u.k",
                    (list(last), [s for s, _, _ in last.values()], [t for _, t, _ in last.values()],
                     [o.get("outcome", "") if o else None for _, _, o in last.values()],
                     [_json(o) if o else None for _, _, o in last.values()], sheet))
                return
            # SQLite: one statement a row
            cur.executemany("UPDATE rows SET status=?, synced_at=?, outcome=COALESCE(?, outcome), "
                            "data=COALESCE(?, data) WHERE sheet=? AND key=?",
                            [(status, synced, o.get("outcome", "") if o else None, _json(o) if o else None, sheet, key)
                             for key, status, synced, o in statuses])


class SqliteStore(SqlStore):
    """The default state store (one file, WAL).  Safe for several processes and threads of one machine."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        self.db = Db(self.path)
        super().__init__(LEASE_S)


class PostgresStore(SqlStore):
    """The state store on a PostgreSQL server: one truth for every machine, CLI run and replica."""

    def __init__(self, url: str) -> None:
        from .pg import PgDb

        self.db = PgDb(url)
        self.url = self.db.where
        self.path = Path(self.db.where)
        super().__init__(SHARED_LEASE_S)
