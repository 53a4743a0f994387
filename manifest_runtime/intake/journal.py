"""What `serve` keeps in the state (DESIGN §6 "webhook journal"); several `serve` processes of
one workflow may share it (docs/serve.md "Several serve processes"):

* `webhook_journal`: one row per webhook received, numbered; the number is the record number
  of its dead letters (table `dead_letters`, pipeline/journal.py). A payload to process is
  journaled with its payload (secrets masked, `masked` says so) and the process that holds
  it (`claimed_by`) in one transaction committed before it is processed, so before the reply:
  a row still `received` (or `processing`: its HTTP requests may have gone out) whose holder
  died is taken over by another live process of the workflow (`take`, compare-and-set: one
  taker) or by the next serve. The payload is cleared when the webhook ends.
* `webhook_digests`: per workflow and payload digest, the webhook that holds it and when it
  came: a payload seen again within the de-duplication window (a doubled registration, a
  provider's retry, the same request to two processes) is journaled `duplicate`, not
  processed. Claimed in the transaction that journals the payload (INSERT ... ON CONFLICT),
  so two processes never both take the same payload.
* `webhook_registrations`: the intent and outcome of a workflow's registration, written
  before `create` runs (`creating`), then `registered` (create succeeded) or `unknown`
  (create timed out or failed after its request may have reached the provider; or the
  process died while `creating` or `deleting`). `deleting` while `delete` runs. A row is
  removed when `delete` succeeds, when create surely registered nothing, or by `serve
  --forget-registration`. `owner` is the process that registered it (or took it over);
  transitions are compare-and-set on the row, so of processes starting together one runs
  `create` and the others join.
* `webhook_receivers`: the `serve` processes receiving a workflow's webhooks, with a
  heartbeat: the registration is removed only by the last of them to stop; the webhooks in
  hand of one that died are taken over by the others.

A member is alive when it is a process of this machine that runs (pid, and its start time
against pid reuse), or a process of another machine whose heartbeat is younger than LEASE.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..processes import process_alive, process_started
from ..store import StateDB, begin_exclusive, columns

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_journal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- the record number of its dead letters
    workflow    TEXT NOT NULL,
    intake      TEXT NOT NULL,
    method      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,     -- received | processing | delivered | failed | ignored |
                                   -- answered | duplicate
    status      INTEGER,           -- the HTTP status of the reply
    delivered   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,  -- dead letters
    detail      TEXT,              -- why ignored, what was answered, the first error
    digest      TEXT,              -- SHA-256 of method and payload (de-duplication)
    payload     TEXT,              -- the payload to process, as JSON, secrets masked; cleared
                                   -- when it ends
    masked      INTEGER NOT NULL DEFAULT 0,  -- 1: secret values were masked out of payload
    claimed_by  TEXT               -- "host:pid" of the serve holding (or that processed) it
);
CREATE TABLE IF NOT EXISTS webhook_registrations (
    workflow      TEXT NOT NULL,
    intake        TEXT NOT NULL,
    url           TEXT NOT NULL,   -- ${webhook.url} given to create
    registered_at TEXT NOT NULL,
    owner         TEXT,            -- "host:pid" of the serve that registered (or took) it
    status        TEXT NOT NULL DEFAULT 'registered',  -- creating | registered | unknown |
                                                       -- deleting
    detail        TEXT,            -- why the outcome is unknown
    PRIMARY KEY (workflow, intake)
);
CREATE TABLE IF NOT EXISTS webhook_digests (
    workflow TEXT NOT NULL,
    digest   TEXT NOT NULL,
    number   INTEGER NOT NULL,     -- the webhook that holds the digest
    at       TEXT NOT NULL,        -- when it came: the window runs from here
    PRIMARY KEY (workflow, digest)
);
CREATE TABLE IF NOT EXISTS webhook_receivers (
    workflow  TEXT NOT NULL,
    member    TEXT NOT NULL,       -- "host:pid" of a running serve
    started   TEXT,                -- its process's start (Linux /proc), against pid reuse
    url       TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    seen_at   TEXT NOT NULL,       -- its heartbeat
    PRIMARY KEY (workflow, member)
);
"""
# columns added since the tables were first made: (table, column, declaration)
_ADDED = (("webhook_journal", "digest", "TEXT"),
          ("webhook_journal", "payload", "TEXT"),
          ("webhook_journal", "masked", "INTEGER NOT NULL DEFAULT 0"),
          ("webhook_journal", "claimed_by", "TEXT"),
          ("webhook_registrations", "status", "TEXT NOT NULL DEFAULT 'registered'"),
          ("webhook_registrations", "detail", "TEXT"))
_INDEXES = ("CREATE INDEX IF NOT EXISTS webhook_journal_digest ON webhook_journal "
            "(workflow, digest)",
            "CREATE INDEX IF NOT EXISTS webhook_journal_open ON webhook_journal "
            "(workflow, outcome)")

OUTCOMES = ("received", "processing", "delivered", "failed", "ignored", "answered",
            "duplicate")
OPEN = ("received", "processing")  # journaled, not ended: its holder processes it
STATUSES = ("creating", "registered", "unknown", "deleting")
LEASE = 15.0  # seconds: a serve of another machine not heard of for longer is gone
HEARTBEAT = 2.0  # seconds between a serve's heartbeats (well under LEASE)
_COLUMNS = "id, workflow, intake, method, received_at, outcome, status, delivered, failed, " \
           "detail"


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
class Pending:
    """A journaled payload not processed yet, taken over from the process that held it."""

    number: int
    method: str
    received_at: str
    outcome: str  # received | processing (its HTTP requests may have gone out)
    payload: Any  # as journaled (secrets masked)
    masked: bool  # secret values were masked out: it cannot be processed as it came
    previous: str  # the process that held it


@dataclass(frozen=True)
class Registration:
    workflow: str
    intake: str
    url: str
    registered_at: str
    owner: str | None = None  # "host:pid" of the serve process that registered it
    status: str = "registered"  # creating | registered | unknown | deleting
    detail: str | None = None  # why the outcome is unknown

    @property
    def settled(self) -> bool:
        """Is it known to exist at the provider (create succeeded)?"""
        return self.status == "registered"


@dataclass(frozen=True)
class Member:
    """A `serve` process receiving a workflow's webhooks (table `webhook_receivers`)."""

    workflow: str
    member: str  # host:pid
    started: str | None
    url: str
    joined_at: str
    seen_at: str

    def alive(self, now: datetime | None = None) -> bool:
        host, _, pid = self.member.rpartition(":")
        if host == socket.gethostname() and pid.isdigit():
            return process_alive(int(pid), self.started)
        since = ((now or datetime.now(UTC)) - timedelta(seconds=LEASE)).isoformat(
            timespec="seconds")
        return self.seen_at >= since


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def me() -> str:
    """This process as a member and owner: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _started() -> str | None:
    return process_started(os.getpid())


class WebhookJournal:
    """The four tables, on the state's connection and lock."""

    def __init__(self, db: StateDB, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        with self._lock:
            self._db.executescript(_SCHEMA)
            begin_exclusive(self._db, "webhook tables")  # several serves may start together
            try:
                for table, column, declaration in _ADDED:  # a state of an earlier version
                    if column not in columns(self._db, table):
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} "
                                         f"{declaration}")
                for index in _INDEXES:
                    self._db.execute(index)
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()

    # ------------------------------------------------------------------ webhooks

    def received(self, workflow: str, intake: str, method: str, digest: str | None = None
                 ) -> int:
        """A webhook came in that ends before processing (refused, answered): its number."""
        with self._lock, self._db:
            return self._insert(workflow, intake, method, "received", digest, None, False,
                                None, _now())

    def _insert(self, workflow: str, intake: str, method: str, outcome: str,
                digest: str | None, payload: str | None, masked: bool, holder: str | None,
                at: str) -> int:
        row = self._db.execute(
            "INSERT INTO webhook_journal (workflow, intake, method, received_at, outcome, "
            "digest, payload, masked, claimed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (workflow, intake, method, at, outcome, digest, payload, int(masked), holder)
        ).fetchone()
        return int(row[0])

    def arrived(self, workflow: str, intake: str, method: str, digest: str, payload: Any,
                masked: bool, window: float) -> tuple[int, Received | None]:
        """Journal a payload to process, held by this process (committed before this
        returns). With a window (seconds > 0), the digest is claimed in the same transaction:
        when a webhook within the window holds it already, this one is journaled `duplicate`
        (without its payload) and that webhook is returned with the number."""
        now = datetime.now(UTC)
        at = now.isoformat(timespec="seconds")
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        with self._lock, self._db:
            number = self._insert(workflow, intake, method, "received", digest, text, masked,
                                  me(), at)
            if window <= 0:
                return number, None
            since = (now - timedelta(seconds=window)).isoformat(timespec="seconds")
            self._db.execute(
                "INSERT INTO webhook_digests (workflow, digest, number, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (workflow, digest) DO UPDATE SET number = excluded.number, "
                "at = excluded.at WHERE webhook_digests.at < ?",
                (workflow, digest, number, at, since))
            holder = self._db.execute(
                "SELECT number FROM webhook_digests WHERE workflow = ? AND digest = ?",
                (workflow, digest)).fetchone()
            if holder is None or int(holder[0]) == number:
                return number, None
            first = self._db.execute(
                f"SELECT {_COLUMNS} FROM webhook_journal WHERE id = ?", (int(holder[0]),)
            ).fetchone()
            self._db.execute(
                "UPDATE webhook_journal SET outcome = 'duplicate', status = 200, payload = NULL, "
                "detail = ? WHERE id = ?", (f"same payload as webhook {holder[0]}", number))
        return number, Received(*first) if first else Received(
            int(holder[0]), workflow, intake, method, at, "received", None, 0, 0, None)

    def release(self, workflow: str, digest: str, number: int) -> None:
        """Webhook `number` no longer holds its digest (it ended refused: a retry is new)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM webhook_digests WHERE workflow = ? AND digest = ? "
                             "AND number = ?", (workflow, digest, number))

    def processing(self, number: int) -> None:
        """Its requests may go out now (committed): taken over later, it is not resent."""
        with self._lock, self._db:
            self._db.execute("UPDATE webhook_journal SET outcome = 'processing' WHERE id = ?",
                             (number,))

    def stranded(self, workflow: str) -> list[tuple[int, str]]:
        """(number, holder) of the journaled payloads not ended whose holder is gone, or is
        this process (call it between webhooks: then none of its own is in hand)."""
        marks = ", ".join("?" * len(OPEN))
        with self._lock:
            rows = self._db.execute(
                "SELECT id, claimed_by FROM webhook_journal WHERE workflow = ? AND "
                f"outcome IN ({marks}) AND payload IS NOT NULL AND claimed_by IS NOT NULL "
                "ORDER BY id", (workflow, *OPEN)).fetchall()
        if not rows:
            return []
        members = {m.member: m for m in self.members(workflow)}
        now = datetime.now(UTC)
        verdict: dict[str, bool] = {me(): False}
        out: list[tuple[int, str]] = []
        for number, holder in rows:
            if holder not in verdict:
                verdict[holder] = _alive(holder, members.get(holder), now)
            if not verdict[holder]:
                out.append((int(number), str(holder)))
        return out

    def take(self, number: int, previous: str) -> Pending | None:
        """Take over a journaled payload from `previous` (compare-and-set: of processes
        trying together, one gets it); None when another one took it first."""
        marks = ", ".join("?" * len(OPEN))
        with self._lock, self._db:
            row = self._db.execute(
                f"UPDATE webhook_journal SET claimed_by = ? WHERE id = ? AND claimed_by = ? "
                f"AND outcome IN ({marks}) RETURNING method, received_at, outcome, payload, "
                "masked", (me(), number, previous, *OPEN)).fetchone()
        if row is None:
            return None
        method, at, outcome, text, masked = row
        try:
            payload = json.loads(text)
        except (TypeError, ValueError):
            payload = text
        return Pending(number, method, at, outcome, payload, bool(masked), previous)

    def finish(self, number: int, outcome: str, status: int | None, *, delivered: int = 0,
               failed: int = 0, detail: str | None = None) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE webhook_journal SET outcome = ?, status = ?, delivered = ?, failed = ?, "
                "detail = ?, payload = NULL WHERE id = ?",
                (outcome, status, delivered, failed, detail, number))

    def entries(self, workflow: str | None = None) -> list[Received]:
        query = f"SELECT {_COLUMNS} FROM webhook_journal"
        args: tuple[str, ...] = ()
        if workflow is not None:
            query += " WHERE workflow = ?"
            args = (workflow,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [Received(*row) for row in rows]

    # ------------------------------------------------------------------ receivers

    def join(self, workflow: str, url: str) -> None:
        """This process receives the workflow's webhooks (also its heartbeat)."""
        now = _now()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO webhook_receivers (workflow, member, started, url, joined_at, "
                "seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workflow, member) DO UPDATE "
                "SET seen_at = excluded.seen_at, url = excluded.url",
                (workflow, me(), _started(), url, now, now))

    def leave(self, workflow: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM webhook_receivers WHERE workflow = ? AND member = ?",
                             (workflow, me()))

    def members(self, workflow: str | None) -> list[Member]:
        """The serves recorded as receiving the workflow's webhooks (None: every workflow's),
        alive or not."""
        query = "SELECT workflow, member, started, url, joined_at, seen_at FROM " \
                "webhook_receivers"
        args: tuple[str, ...] = ()
        if workflow is not None:
            query += " WHERE workflow = ?"
            args = (workflow,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY workflow, joined_at, member", args
                                    ).fetchall()
        return [Member(*row) for row in rows]

    def others(self, workflow: str) -> list[Member]:
        """The other live serve processes of the workflow; the rows of dead ones are
        removed."""
        now = datetime.now(UTC)
        live: list[Member] = []
        for m in self.members(workflow):
            if m.member == me():
                continue
            if m.alive(now):
                live.append(m)
            else:
                with self._lock, self._db:
                    self._db.execute("DELETE FROM webhook_receivers WHERE workflow = ? AND "
                                     "member = ? AND seen_at = ?",
                                     (workflow, m.member, m.seen_at))
        return live

    def alive(self, workflow: str, member: str | None) -> bool:
        """Is `member` (an owner, a holder) a live process? This process is."""
        if not member:
            return False
        if member == me():
            return True
        known = {m.member: m for m in self.members(workflow)}
        return _alive(member, known.get(member), datetime.now(UTC))

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
                (workflow, intake, url, _now(), me(), status, detail))

    def claim(self, workflow: str, intake: str, url: str, expected: Registration | None,
              status: str = "creating", detail: str | None = None) -> bool:
        """Move the registration from `expected` (None: no row) to `status` for `url`, owned
        by this process, if nobody changed it meanwhile (compare-and-set); True when done."""
        assert status in STATUSES
        with self._lock, self._db:
            if expected is None:
                return self._db.execute(
                    "INSERT INTO webhook_registrations (workflow, intake, url, registered_at, "
                    "owner, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                    "(workflow, intake) DO NOTHING RETURNING 1",
                    (workflow, intake, url, _now(), me(), status, detail)).fetchone() is not None
            return self._db.execute(
                "UPDATE webhook_registrations SET url = ?, registered_at = ?, owner = ?, "
                "status = ?, detail = ? WHERE workflow = ? AND intake = ? AND url = ? AND "
                "status = ? AND COALESCE(owner, '') = ? RETURNING 1",
                (url, _now(), me(), status, detail, workflow, intake, expected.url,
                 expected.status, expected.owner or "")).fetchone() is not None

    def take_over(self, expected: Registration) -> bool:
        """Become the owner of a registration whose owner is gone (compare-and-set)."""
        with self._lock, self._db:
            return self._db.execute(
                "UPDATE webhook_registrations SET owner = ? WHERE workflow = ? AND intake = ? "
                "AND status = ? AND COALESCE(owner, '') = ? RETURNING 1",
                (me(), expected.workflow, expected.intake, expected.status,
                 expected.owner or "")).fetchone() is not None

    def hand_over(self, workflow: str, intake: str, to: str) -> bool:
        """Make `to` the owner of this process's registration."""
        with self._lock, self._db:
            return self._db.execute(
                "UPDATE webhook_registrations SET owner = ? WHERE workflow = ? AND intake = ? "
                "AND owner = ? RETURNING 1", (to, workflow, intake, me())).fetchone() is not None

    def unregistered(self, workflow: str, intake: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM webhook_registrations WHERE workflow = ? AND "
                             "intake = ?", (workflow, intake))


def _alive(member: str, row: Member | None, now: datetime) -> bool:
    """A member without a receivers row: a process of this machine that runs (a serve of an
    earlier version), else gone."""
    if row is not None:
        return row.alive(now)
    host, _, pid = member.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and process_alive(int(pid))
