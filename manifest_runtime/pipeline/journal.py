"""What `run` records in the state file: which input records are done (so an interrupted run
resumes without duplicates) and the dead letters (every record that failed, with the stage,
the error and the record itself).

A run over a file is identified by its key: the workflow and the SHA-256 of the file's bytes.
Running the same file again skips the records already done (delivered or dead-lettered);
`--restart` forgets them. Standard input has no key: nothing is skipped.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_records (
    run_key   TEXT NOT NULL,
    record_no INTEGER NOT NULL,   -- 1-based line of the input
    outcome   TEXT NOT NULL,      -- delivered | failed
    done_at   TEXT NOT NULL,
    PRIMARY KEY (run_key, record_no)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key   TEXT,
    workflow  TEXT NOT NULL,
    record_no INTEGER NOT NULL,
    item      INTEGER,            -- index in a fanned-out source array, else NULL
    stage     TEXT NOT NULL,      -- read | source | transform | target
    code      TEXT NOT NULL,
    message   TEXT NOT NULL,
    hint      TEXT,
    pointer   TEXT NOT NULL,
    record    TEXT NOT NULL,      -- the input record (or the line as text) as JSON
    failed_at TEXT NOT NULL
);
"""


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


def run_key(workflow: str, digest: str) -> str:
    """A run over a file: the workflow and the file's SHA-256 (hex)."""
    return f"{workflow}:{digest}"


class Journal:
    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    def done(self, key: str | None) -> set[int]:
        """Record numbers of `key` already delivered or dead-lettered."""
        if key is None:
            return set()
        with self._lock:
            rows = self._db.execute("SELECT record_no FROM run_records WHERE run_key = ?",
                                    (key,)).fetchall()
        return {n for (n,) in rows}

    def forget(self, key: str) -> int:
        """--restart: every record of this run is to be run again; its dead letters go too
        (they would be repeated)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM dead_letters WHERE run_key = ?", (key,))
            return self._db.execute("DELETE FROM run_records WHERE run_key = ?",
                                    (key,)).rowcount

    def forget_failed(self, key: str) -> int:
        """--retry-failed: the failed records of this run are to be run again."""
        with self._lock, self._db:
            self._db.execute(
                "DELETE FROM dead_letters WHERE run_key = ? AND record_no IN (SELECT record_no "
                "FROM run_records WHERE run_key = ? AND outcome = 'failed')", (key, key))
            return self._db.execute("DELETE FROM run_records WHERE run_key = ? AND "
                                    "outcome = 'failed'", (key,)).rowcount

    def finish(self, key: str | None, record_no: int, dead: list[DeadLetter]) -> None:
        """One record ended: its dead letters (if any) and its done mark, in one
        transaction, so a crash leaves it either wholly recorded or to be run again."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO dead_letters (run_key, workflow, record_no, item, stage, code, "
                "message, hint, pointer, record, failed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(key, d.workflow, d.record_no, d.item, d.stage, d.code, d.message, d.hint,
                  d.pointer, json.dumps(d.record, ensure_ascii=False), now) for d in dead])
            if key is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO run_records (run_key, record_no, outcome, done_at) "
                    "VALUES (?, ?, ?, ?)",
                    (key, record_no, "failed" if dead else "delivered", now))

    def dead_letters(self, workflow: str | None = None) -> list[DeadLetter]:
        query = "SELECT workflow, record_no, item, stage, code, message, pointer, record, " \
                "hint FROM dead_letters"
        args: tuple[Any, ...] = ()
        if workflow is not None:
            query += " WHERE workflow = ?"
            args = (workflow,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [DeadLetter(w, n, i, s, c, m, p, json.loads(r), h)
                for w, n, i, s, c, m, p, r, h in rows]
