"""What `run` records in the state file: where each input record stands (so a stopped run
resumes without duplicates) and the dead letters (every record that failed, with the stage,
the error and the record itself).

`run_records` holds one row per record identity (pipeline/records.py: a digest of the line
and its ordinal among identical lines) and workflow, in one of four states:

    sending    a request that is not idempotent (POST, PATCH) is about to leave: committed
               before it does, so a process killed mid-request leaves this mark behind
    delivered  the record ended delivered
    failed     it ended in the dead-letter table
    unknown    its request may or may not have acted (the process died while `sending`, or a
               POST timed out): a dead letter `outcome-unknown`, not resent automatically

A record that ends again (--restart, --retry-failed, --retry-unknown) replaces its row and its
old dead letters in the same transaction. `serve` and `poll` record their dead letters without
an identity (`finish`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from ..store import StateDB

_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_records (
    workflow   TEXT NOT NULL,
    record_id  TEXT NOT NULL,      -- the record's identity (pipeline/records.py)
    state      TEXT NOT NULL,      -- sending | delivered | failed | unknown
    line       INTEGER NOT NULL,   -- its line in the input that ran it last
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workflow, record_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key   TEXT,               -- poll: the poll it came from
    workflow  TEXT NOT NULL,
    record_no INTEGER NOT NULL,
    item      INTEGER,            -- index in a fanned-out source array, else NULL
    stage     TEXT NOT NULL,      -- read | source | transform | target
    code      TEXT NOT NULL,
    message   TEXT NOT NULL,
    hint      TEXT,
    pointer   TEXT NOT NULL,
    record    TEXT NOT NULL,      -- the input record (or the line as text) as JSON
    failed_at TEXT NOT NULL,
    record_id TEXT                -- run: the record's identity
);
CREATE INDEX IF NOT EXISTS dead_letters_record ON dead_letters (workflow, record_id);
"""

State = Literal["sending", "delivered", "failed", "unknown"]
STATES: tuple[State, ...] = ("sending", "delivered", "failed", "unknown")
LOOKUP_CHUNK = 500  # identities looked up per query (below SQLite's variable limit)


@dataclass(frozen=True)
class DeadLetter:
    workflow: str
    record_no: int
    item: int | None
    stage: str
    code: str
    message: str  # already redacted
    pointer: str
    record: Any  # already redacted
    hint: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "record": self.record_no, "item": self.item,
                "stage": self.stage, "code": self.code, "error": self.message,
                "hint": self.hint, "pointer": self.pointer, "input": self.record}


class Ended(NamedTuple):
    """One record's end, as the journal records it (a named tuple, not a frozen dataclass:
    made once per record, at a third of the cost)."""

    key: str
    line: int
    state: State
    dead: Sequence[DeadLetter] = ()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    def __init__(self, db: StateDB, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    # ------------------------------------------------------------------ run (by identity)

    def states(self, workflow: str, keys: Sequence[str]) -> dict[str, State]:
        """The recorded state of each of `keys` that has one."""
        out: dict[str, State] = {}
        with self._lock:
            for start in range(0, len(keys), LOOKUP_CHUNK):
                chunk = keys[start:start + LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT record_id, state FROM run_records WHERE workflow = ? AND "
                    f"record_id IN ({marks})", (workflow, *chunk)).fetchall()
                out.update(rows)
        return out

    def sending(self, workflow: str, key: str, line: int) -> None:
        """Committed before a request that is not idempotent leaves."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO run_records (workflow, record_id, state, line, updated_at) "
                "VALUES (?, ?, 'sending', ?, ?) ON CONFLICT (workflow, record_id) DO UPDATE "
                "SET state = 'sending', line = excluded.line, updated_at = excluded.updated_at",
                (workflow, key, line, _now()))

    def ended(self, workflow: str, ends: Iterable[Ended], *, commit: bool = True) -> None:
        """Records ended: their old dead letters replaced by the new ones and their state
        set, in one transaction (`commit=False`: in the caller's open transaction)."""
        ends = list(ends)
        if not ends:
            return
        now = _now()
        with self._lock:
            if commit:
                with self._db:
                    self._write(workflow, ends, now)
            else:
                self._write(workflow, ends, now)

    def _write(self, workflow: str, ends: list[Ended], now: str) -> None:
        db = self._db
        keys = [e.key for e in ends]
        for start in range(0, len(keys), LOOKUP_CHUNK):  # one statement per 500 records
            chunk = keys[start:start + LOOKUP_CHUNK]
            db.execute(f"DELETE FROM dead_letters WHERE workflow = ? AND record_id IN "
                       f"({','.join('?' * len(chunk))})", (workflow, *chunk))
        db.executemany(
            "INSERT INTO dead_letters (run_key, workflow, record_no, item, stage, code, "
            "message, hint, pointer, record, failed_at, record_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(None, d.workflow, d.record_no, d.item, d.stage, d.code, d.message, d.hint,
              d.pointer, json.dumps(d.record, ensure_ascii=False), now, e.key)
             for e in ends for d in e.dead])
        db.executemany(
            "INSERT INTO run_records (workflow, record_id, state, line, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workflow, record_id) DO UPDATE SET "
            "state = excluded.state, line = excluded.line, updated_at = excluded.updated_at",
            [(workflow, e.key, e.state, e.line, now) for e in ends])

    def counts(self, workflow: str) -> dict[str, int]:
        """Records per state of a workflow."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM run_records WHERE "
                                    "workflow = ? GROUP BY state", (workflow,)).fetchall()
        return {state: n for state, n in rows}

    # ------------------------------------------------------------------ poll, serve

    def finish(self, run_key: str | None, record_no: int, dead: list[DeadLetter]) -> None:
        """A poll result or a webhook ended: its dead letters (if any), in one transaction."""
        if not dead:
            return
        now = _now()
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO dead_letters (run_key, workflow, record_no, item, stage, code, "
                "message, hint, pointer, record, failed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(run_key, d.workflow, d.record_no, d.item, d.stage, d.code, d.message, d.hint,
                  d.pointer, json.dumps(d.record, ensure_ascii=False), now) for d in dead])

    def dead_letters(self, workflow: str | None = None) -> list[DeadLetter]:
        query = "SELECT workflow, record_no, item, stage, code, message, pointer, record, " \
                "hint FROM dead_letters"
        args: tuple[Any, ...] = ()
        if workflow is not None:
            query += " WHERE workflow = ?"
            args = (workflow,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [DeadLetter(w, n, i, s, c, m, p, _record(r), h)
                for w, n, i, s, c, m, p, r, h in rows]


def _record(text: str) -> Any:
    """A dead letter's record as kept (its text, should the row be damaged)."""
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return text
