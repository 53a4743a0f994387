"""Where an ActiveCampaign account keeps its records: in memory (tests, `--state :memory:`) or
in the SQLite state file (the embedded sandbox, DESIGN §6). The rules live in account.py;
a storage only reads and writes records.

Records are the account's own dicts (a contact: `{id, email, firstName, ..., fieldValues,
tags}`), stored whole; in SQLite as JSON text beside the columns that look them up.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from ..store import StateDB, deferred


@dataclass(frozen=True, slots=True)
class CustomField:
    id: str  # numeric id as a string, as in ActiveCampaign
    title: str
    perstag: str  # personalization tag, e.g. COMPANY (used as %COMPANY%)
    type: str = "text"


DEFAULT_CUSTOM_FIELDS = (
    CustomField("1", "Company", "COMPANY"),
    CustomField("2", "Birthday", "BIRTHDAY", "date"),
)

KINDS = ("contact", "account", "deal", "custom_object")  # record kinds with their own table


class Storage(Protocol):
    def transaction(self) -> Any:
        """A context manager: the writes inside it land together (or not at all)."""
        ...

    def next_id(self, kind: str) -> int: ...

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """A copy of the record, or None."""
        ...

    def put(self, kind: str, key: str, record: dict[str, Any]) -> None: ...

    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        """Copies of every record of a kind by key, oldest first."""
        ...

    def tags(self) -> list[str]: ...

    def add_tag(self, tag: str) -> None: ...

    def custom_fields(self) -> tuple[CustomField, ...]: ...


class MemoryStorage:
    def __init__(self, custom_fields: tuple[CustomField, ...] = DEFAULT_CUSTOM_FIELDS) -> None:
        self._records: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self._tags: list[str] = []
        self._ids: dict[str, int] = {}
        self._custom_fields = custom_fields

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def next_id(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        record = self._records[kind].get(key)
        return copy.deepcopy(record) if record is not None else None

    def put(self, kind: str, key: str, record: dict[str, Any]) -> None:
        self._records[kind][key] = copy.deepcopy(record)

    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self._records[kind])

    def tags(self) -> list[str]:
        return list(self._tags)

    def add_tag(self, tag: str) -> None:
        if tag not in self._tags:
            self._tags.append(tag)

    def custom_fields(self) -> tuple[CustomField, ...]:
        return self._custom_fields


def _sorted_json() -> Callable[[Any], str]:
    """`json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode` with its C encoder made
    once (`encode` makes one per call), without the circular-reference check: records are
    trees of JSON values."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it
        return json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
    chunks = make(None, _not_json, json.encoder.encode_basestring, None, ": ", ", ", True,
                  False, True)
    join = "".join

    def encode(value: Any) -> str:
        return join(chunks(value, 0))
    return encode


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS ac_ids (kind TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ac_records (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    seq  INTEGER NOT NULL,  -- insertion order, for listings
    data TEXT NOT NULL,     -- the record as JSON
    PRIMARY KEY (kind, key)
);
-- MAX(seq) for the next record's place: without it, every put scans the whole table
CREATE INDEX IF NOT EXISTS ac_records_seq ON ac_records (seq);
CREATE TABLE IF NOT EXISTS ac_tags (id INTEGER PRIMARY KEY AUTOINCREMENT, tag TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS ac_custom_fields (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, perstag TEXT NOT NULL, type TEXT NOT NULL
);
"""


class SqliteStorage:
    """The sandbox account's records in the state (tables `ac_*`; a SQLite file or a
    PostgreSQL database: store/). One connection shared by threads under a lock;
    `transaction()` commits once, or rolls back on an error.

    Inside a batch (`StateFile.batch`, the connection's `batching`) the records put and the
    ids taken stay in memory (`_Pending`, one per connection, shared by its storages) and
    are written by one statement each when the batch commits: a record costs a lookup
    (none when the batch holds it already) instead of four statements. Reads see them."""

    def __init__(self, db: StateDB,
                 custom_fields: tuple[CustomField, ...] = DEFAULT_CUSTOM_FIELDS,
                 lock: threading.RLock | None = None) -> None:
        self._db = db
        self._lock = lock or threading.RLock()
        self._depth = 0
        self._fields: tuple[CustomField, ...] | None = None  # read once: nothing changes them
        # the record read (get) or written (put) last in the transaction under way, as stored:
        # a put() of the same text writes nothing (an import of records the sandbox holds
        # already rewrites no row). Forgotten when a transaction begins or ends.
        self._read: tuple[str, str, str] | None = None
        with self._lock:
            writers = deferred(db)
            pending = writers.get(_Pending.NAME)
            if not isinstance(pending, _Pending):
                pending = _Pending(db)
                writers[_Pending.NAME] = pending
            self._pending = pending
            with self._db:
                self._db.executescript(_SCHEMA)
                if self._db.execute("SELECT COUNT(*) FROM ac_custom_fields"
                                    ).fetchone()[0] == 0:
                    # another process opening the file at the same moment may seed it
                    # between the look and the insert: its rows are the same ones
                    self._db.executemany(
                        "INSERT OR IGNORE INTO ac_custom_fields (id, title, perstag, type) "
                        "VALUES (?,?,?,?)",
                        [(f.id, f.title, f.perstag, f.type) for f in custom_fields])

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def next_id(self, kind: str) -> int:
        with self._lock:
            if getattr(self._db, "batching", False):
                return self._pending.next_id(kind)
        with _Transaction(self):
            return _take_id(self._db, kind)

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            data = self._pending.records.get((kind, key)) if self._pending.records else None
            if data is None:
                row = self._db.execute("SELECT data FROM ac_records WHERE kind = ? AND key = ?",
                                       (kind, key)).fetchone()
                if row is None:
                    return None
                data = row[0]
            self._read = (kind, key, data)
        return _decode(data)  # type: ignore[no-any-return]

    def put(self, kind: str, key: str, record: dict[str, Any]) -> None:
        data = _ENCODE(record)
        with self._lock:
            if getattr(self._db, "batching", False):  # kept until the batch commits
                if not (self._depth and self._read == (kind, key, data)):  # else: unchanged
                    self._pending.records[(kind, key)] = data
                    self._read = (kind, key, data) if self._depth else None
                return
        with _Transaction(self):
            if self._read == (kind, key, data):  # read just now, unchanged: nothing to write
                return
            self._db.execute(
                "INSERT INTO ac_records (kind, key, seq, data) VALUES (?, ?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM ac_records), ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
                (kind, key, data))
            self._read = (kind, key, data)  # as it now stands in this transaction

    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            self._pending.flush()  # a batch's records, in its transaction: seen by the query
            rows = self._db.execute("SELECT key, data FROM ac_records WHERE kind = ? "
                                    "ORDER BY seq", (kind,)).fetchall()
        return {key: _decode(data) for key, data in rows}

    def tags(self) -> list[str]:
        with self._lock:
            return [t for (t,) in self._db.execute("SELECT tag FROM ac_tags ORDER BY id")]

    def add_tag(self, tag: str) -> None:
        pending = self._pending
        if tag in pending.tags or tag in pending.new_tags:  # every record of an import
            return  # carries the same few tags (new_tags: written in the transaction under way)
        with self.transaction():
            self._db.execute("INSERT OR IGNORE INTO ac_tags (tag) VALUES (?)", (tag,))
            pending.new_tags.add(tag)

    def custom_fields(self) -> tuple[CustomField, ...]:
        if self._fields is None:  # every upsert checks its fields against these
            with self._lock:
                rows = self._db.execute("SELECT id, title, perstag, type FROM ac_custom_fields "
                                        "ORDER BY CAST(id AS INTEGER)").fetchall()
            self._fields = tuple(CustomField(*row) for row in rows)
        return self._fields


def _take_id(db: StateDB, kind: str) -> int:
    """The next id of a kind, written (in the transaction under way: the counter's row stays
    locked until it ends, so two writers never take the same id)."""
    (last,) = db.execute(
        "INSERT INTO ac_ids (kind, last) VALUES (?, 1) ON CONFLICT (kind) "
        "DO UPDATE SET last = ac_ids.last + 1 RETURNING last", (kind,)).fetchone()
    return int(last)


class _Pending:
    """What the sandbox wrote in the transaction under way on one connection and has not
    sent to the database yet (only inside a batch: store/base.py `Deferred`), and the tags
    known to be committed.

    * `records`: (kind, key) -> the record as stored, in the order first put. `flush` writes
      them with one `executemany`, sorted by key (PostgreSQL: writers sharing the state lock
      these rows in one order, so two flushes do not deadlock), each new one placed after
      the table's last in the order put (`seq`);
    * `ids`: kind -> [last id handed out, last id written]. The batch's first id of a kind
      is taken with the counter's `UPDATE` (which locks its row until the batch ends, as
      before); the next ones are counted here and written once by `flush`.
    """

    NAME = "sandbox"
    __slots__ = ("_db", "ids", "new_tags", "records", "tags")

    def __init__(self, db: StateDB) -> None:
        self._db = db
        self.records: dict[tuple[str, str], str] = {}
        self.ids: dict[str, list[int]] = {}
        self.tags: set[str] = set()  # committed in ac_tags (tags are never deleted)
        self.new_tags: set[str] = set()  # written in the transaction under way

    def next_id(self, kind: str) -> int:
        counter = self.ids.get(kind)
        if counter is None:
            last = _take_id(self._db, kind)
            self.ids[kind] = [last, last]
            return last
        counter[0] += 1
        return counter[0]

    def flush(self) -> None:
        db = self._db
        if self.records:
            (last,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM ac_records").fetchone()
            rows = [(kind, key, seq, data) for seq, ((kind, key), data)
                    in enumerate(self.records.items(), int(last) + 1)]
            rows.sort()
            db.executemany(
                "INSERT INTO ac_records (kind, key, seq, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data", rows)
            self.records.clear()
        for kind, counter in self.ids.items():
            if counter[0] != counter[1]:
                db.execute("UPDATE ac_ids SET last = ? WHERE kind = ?", (counter[0], kind))
                counter[1] = counter[0]

    def end(self, committed: bool) -> None:
        self.records.clear()
        self.ids.clear()
        if committed:
            self.tags |= self.new_tags
        self.new_tags.clear()


_ENCODE = _sorted_json()  # a record as stored
# the C scanner behind json.loads, without its checks (typeshed does not declare it)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _decode(text: str) -> Any:
    """`json.loads(text)` of a stored record: the scanner alone when the text is one value
    and nothing else (as the sandbox writes them), else json.loads (its errors)."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:  # e.g. leading whitespace: json.loads says what is wrong
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


class _Transaction:
    """`SqliteStorage.transaction()`: the writes inside land together (one commit by the
    outermost), or a failure rolls them back. A plain class, not @contextmanager: an upsert
    opens one or more for every record. Inside a batch, the batch commits (StateFile.batch:
    this commit waits for it) and tells `_Pending` how it ended."""

    __slots__ = ("_storage",)

    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage

    def __enter__(self) -> None:
        storage = self._storage
        storage._lock.acquire()
        storage._depth += 1
        if storage._depth == 1:
            storage._read = None

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        storage = self._storage
        try:
            if storage._depth == 1:
                storage._read = None
                batching = getattr(storage._db, "batching", False)
                if kind is not None:
                    storage._db.rollback()  # in a batch: spoils it (rolled back whole)
                    if not batching:
                        storage._pending.end(False)
                elif not batching:
                    storage._db.commit()
                    storage._pending.end(True)
        finally:
            storage._depth -= 1
            storage._lock.release()
