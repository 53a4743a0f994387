"""What `serve` keeps in the state file (DESIGN §6 "webhook journal"):

* `webhook_journal`: one row per webhook received, numbered; the number is the record number
  of its dead letters (table `dead_letters`, pipeline/journal.py). A row still `received`
  means the process stopped while handling it.
  Each row keeps the digest of its payload: a payload seen again within the de-duplication
  window (a doubled registration, a provider's retry) is journaled `duplicate`, not processed.
* `webhook_registrations`: the intent and outcome of a workflow's registration, written
  before `create` runs (`creating`), then `registered` (create succeeded) or `unknown` (create
  timed out or failed after its request may have reached the provider; or the process died
  while `creating`). A row is removed when `delete` succeeds, when create surely registered
  nothing, or by `serve --forget-registration`. `serve` reads it to skip `create` when the
  same URL is registered already, and never runs `create` over an `unknown` one.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..store import StateDB, columns

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
    detail      TEXT,              -- why ignored, what was answered, the first error
    digest      TEXT               -- SHA-256 of method and payload (de-duplication)
);
CREATE TABLE IF NOT EXISTS webhook_registrations (
    workflow      TEXT NOT NULL,
    intake        TEXT NOT NULL,
    url           TEXT NOT NULL,   -- ${webhook.url} given to create
    registered_at TEXT NOT NULL,
    owner         TEXT,            -- "host:pid" of the serve that registered it
    status        TEXT NOT NULL DEFAULT 'registered',  -- creating | registered | unknown
    detail        TEXT,            -- why the outcome is unknown
    PRIMARY KEY (workflow, intake)
);
"""
# columns added since the tables were first made: (table, column, declaration)
_ADDED = (("webhook_journal", "digest", "TEXT"),
          ("webhook_registrations", "status", "TEXT NOT NULL DEFAULT 'registered'"),
          ("webhook_registrations", "detail", "TEXT"))
_INDEX = "CREATE INDEX IF NOT EXISTS webhook_journal_digest ON webhook_journal (workflow, digest)"

OUTCOMES = ("received", "delivered", "failed", "ignored", "answered", "duplicate")
STATUSES = ("creating", "registered", "unknown")
# outcomes of a payload that was handled (processed, or routed away) and answered 2xx: the
# same payload again within the window is a duplicate
_HANDLED = ("delivered", "failed", "ignored")


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
    status: str = "registered"  # creating | registered | unknown
    detail: str | None = None  # why the outcome is unknown

    @property
    def settled(self) -> bool:
        """Is it known to exist at the provider (create succeeded)?"""
        return self.status == "registered"

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


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class WebhookJournal:
    """The two tables, on the state file's connection and lock."""

    def __init__(self, db: StateDB, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)
            for table, column, declaration in _ADDED:  # a state file of an earlier version
                have = columns(self._db, table)
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            self._db.execute(_INDEX)

    # ------------------------------------------------------------------ webhooks

    def received(self, workflow: str, intake: str, method: str, digest: str | None = None
                 ) -> int:
        """A webhook came in: its number."""
        with self._lock, self._db:
            (number,) = self._db.execute(
                "INSERT INTO webhook_journal (workflow, intake, method, received_at, outcome, "
                "digest) VALUES (?, ?, ?, ?, 'received', ?) RETURNING id",
                (workflow, intake, method, _now(), digest)).fetchone()
        return int(number)

    def seen(self, workflow: str, digest: str, window: float, before: int
             ) -> Received | None:
        """The latest webhook before number `before` with this digest, handled within the last
        `window` seconds (None: not seen, or the window is 0)."""
        if window <= 0:
            return None
        since = (datetime.now(UTC) - timedelta(seconds=window)).isoformat(timespec="seconds")
        marks = ", ".join("?" * len(_HANDLED))
        with self._lock:
            row = self._db.execute(
                "SELECT id, workflow, intake, method, received_at, outcome, status, delivered, "
                "failed, detail FROM webhook_journal WHERE workflow = ? AND digest = ? AND "
                f"id < ? AND received_at >= ? AND outcome IN ({marks}) AND status < 300 "
                "ORDER BY id DESC LIMIT 1", (workflow, digest, before, since, *_HANDLED)
            ).fetchone()
        return Received(*row) if row else None

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
                "SELECT workflow, intake, url, registered_at, owner, status, detail FROM "
                "webhook_registrations WHERE workflow = ? AND intake = ?",
                (workflow, intake)).fetchone()
        return Registration(*row) if row else None

    def registrations(self) -> list[Registration]:
        with self._lock:
            rows = self._db.execute(
                "SELECT workflow, intake, url, registered_at, owner, status, detail FROM "
                "webhook_registrations ORDER BY workflow, intake").fetchall()
        return [Registration(*row) for row in rows]

    def registered(self, workflow: str, intake: str, url: str, status: str = "registered",
                   detail: str | None = None) -> None:
        """Record the registration (committed before this returns): `creating` before create
        runs, `registered` after it succeeded, `unknown` when its outcome is not known."""
        assert status in STATUSES
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO webhook_registrations (workflow, intake, url, registered_at, "
                "owner, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                "(workflow, intake) DO UPDATE SET url = excluded.url, registered_at = "
                "excluded.registered_at, owner = excluded.owner, status = excluded.status, "
                "detail = excluded.detail",
                (workflow, intake, url, _now(), _owner(), status, detail))

    def unregistered(self, workflow: str, intake: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM webhook_registrations WHERE workflow = ? AND "
                             "intake = ?", (workflow, intake))
