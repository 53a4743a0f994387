"""What `serve` keeps in the state file (DESIGN §6 "webhook journal"):

* `webhook_journal`: one row per webhook received, numbered; the number is the record number
  of its dead letters (table `dead_letters`, pipeline/journal.py). A row still `received`
  means the process stopped while handling it.
* `webhook_registrations`: the URL a workflow's webhook intake was registered for (its
  `create` ran) and not removed since (its `delete` did not run or failed). `serve` reads it
  to skip `create` when the same URL is registered already.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_journal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- the record number of its dead letters
    workflow    TEXT NOT NULL,
    intake      TEXT NOT NULL,
    method      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,     -- received | delivered | failed | ignored | answered
    status      INTEGER,           -- the HTTP status of the reply
    delivered   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,  -- dead letters
    detail      TEXT               -- why ignored, what was answered, the first error
);
CREATE TABLE IF NOT EXISTS webhook_registrations (
    workflow      TEXT NOT NULL,
    intake        TEXT NOT NULL,
    url           TEXT NOT NULL,   -- ${webhook.url} given to create
    registered_at TEXT NOT NULL,
    owner         TEXT,            -- "host:pid" of the serve that registered it
    PRIMARY KEY (workflow, intake)
);
"""

OUTCOMES = ("received", "delivered", "failed", "ignored", "answered")


@dataclass(frozen=True)
class Received:
    """One row of the webhook journal."""

    number: int
    workflow: str
    intake: str
    method: str
    received_at: str
    outcome: str
    status: int | None
    delivered: int
    failed: int
    detail: str | None


@dataclass(frozen=True)
class Registration:
    workflow: str
    intake: str
    url: str
    registered_at: str
    owner: str | None = None  # "host:pid" of the serve process that registered it

    def held_by_another_live_process(self) -> bool:
        """Is the serve that registered it still running (on this machine, not us)?"""
        host, _, pid = (self.owner or "").rpartition(":")
        if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, someone else's
            return True
        return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class WebhookJournal:
    """The two tables, on the state file's connection and lock."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    # ------------------------------------------------------------------ webhooks

    def received(self, workflow: str, intake: str, method: str) -> int:
        """A webhook came in: its number."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO webhook_journal (workflow, intake, method, received_at, outcome) "
                "VALUES (?, ?, ?, ?, 'received')", (workflow, intake, method, _now()))
        number = cursor.lastrowid
        assert number is not None
        return number

    def finish(self, number: int, outcome: str, status: int, *, delivered: int = 0,
               failed: int = 0, detail: str | None = None) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE webhook_journal SET outcome = ?, status = ?, delivered = ?, failed = ?, "
                "detail = ? WHERE id = ?", (outcome, status, delivered, failed, detail, number))

    def entries(self, workflow: str | None = None) -> list[Received]:
        query = "SELECT id, workflow, intake, method, received_at, outcome, status, " \
                "delivered, failed, detail FROM webhook_journal"
        args: tuple[str, ...] = ()
        if workflow is not None:
            query += " WHERE workflow = ?"
            args = (workflow,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [Received(*row) for row in rows]

    # ------------------------------------------------------------------ registrations

    def registration(self, workflow: str, intake: str) -> Registration | None:
        with self._lock:
            row = self._db.execute(
                "SELECT workflow, intake, url, registered_at, owner FROM webhook_registrations "
                "WHERE workflow = ? AND intake = ?", (workflow, intake)).fetchone()
        return Registration(*row) if row else None

    def registered(self, workflow: str, intake: str, url: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO webhook_registrations (workflow, intake, url, registered_at, "
                "owner) VALUES (?, ?, ?, ?, ?) ON CONFLICT (workflow, intake) DO UPDATE SET "
                "url = excluded.url, registered_at = excluded.registered_at, "
                "owner = excluded.owner",
                (workflow, intake, url, _now(), f"{socket.gethostname()}:{os.getpid()}"))

    def unregistered(self, workflow: str, intake: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM webhook_registrations WHERE workflow = ? AND "
                             "intake = ?", (workflow, intake))
