"""The state (DESIGN §6): one database per project (a SQLite file by default, or a
PostgreSQL database) holding runtime state and the embedded sandbox ActiveCampaign account.

It holds `!save` data (`${data.<scope>.<key>}`, table `saved_data`), what `setup` chose per
workflow (table `setups`: connection, custom_data, mapping, selection, schedule, credentials),
the sandbox account's records (tables `ac_*`, activecampaign/storage.py), what `run`
records (pipeline/journal.py: where each record stands, dead letters) and which process is
running each workflow (table `workflow_owners`: one writer per workflow).

The layout has a version (store/schema.py, `SCHEMA_VERSION`): an older state is migrated
when opened (in one transaction), a newer one is refused.

Where it is: `--state PATH|URL`, else the environment variable MANIFEST_RUNTIME_STATE, else
`.manifest-runtime/state.db` in the current directory. `:memory:` keeps everything in memory
for one run; a `postgresql://` URL keeps it in a PostgreSQL database that several processes
and machines share (store/postgres.py, docs/state.md). The SQL here and in the modules that
keep state is written once, with `?` placeholders, against the `StateDB` protocol
(store/base.py).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .processes import process_alive, process_started
from .store import (
    BatchingDB,
    StateDB,
    begin_exclusive,
    end_deferred,
    flush_deferred,
    has_table,
    hold,
    open_connection,
    shown,
    unhold,
)
from .store.schema import OUR_TABLES, SCHEMA_VERSION
from .store.schema import SQLITE_MIGRATIONS as MIGRATIONS
from .store.sqlite import APPLICATION_ID, MEMORY, StateConnection, private_file

if TYPE_CHECKING:
    from .activecampaign import SandboxAccount

DEFAULT_PATH = os.path.join(".manifest-runtime", "state.db")
ENV_VAR = "MANIFEST_RUNTIME_STATE"
__all__ = ["APPLICATION_ID", "MEMORY", "MIGRATIONS", "OUR_TABLES", "SCHEMA_VERSION",
           "Owner", "Setup", "SqliteStore", "StateConnection", "StateFile", "open_db",
           "private_file", "state_path", "stored_json"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS saved_data (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
)
"""

_SETUP_SCHEMA = """
CREATE TABLE IF NOT EXISTS setups (
    workflow   TEXT PRIMARY KEY,
    data       TEXT NOT NULL,  -- Setup as JSON
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workflow_owners (
    workflow TEXT PRIMARY KEY,
    command  TEXT NOT NULL,         -- run | poll
    owner    TEXT NOT NULL,         -- "host:pid" of the process writing for the workflow
    since    TEXT NOT NULL,
    started  TEXT                   -- the process's start (Linux: /proc), against pid reuse
);
CREATE TABLE IF NOT EXISTS polling_state (
    workflow   TEXT PRIMARY KEY,  -- a row: initial_setup has run
    state      TEXT,              -- ${polling_state} as JSON; NULL: none stored yet
    updated_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Setup:
    """What `setup` chose for one workflow; `run` and `poll` read it (DESIGN §5)."""

    workflow: str
    connection: dict[str, Any] | None = None  # describe_connection: {account_id, description}
    custom_data: dict[str, Any] = field(default_factory=dict)  # {field id: {value, display}}
    # {"$pairs": [{source, target, source_group?, target_group?}]} (pipeline/transform.py);
    # setups saved before grouped pairs existed hold {source option id: target option id}
    mapping: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] | None = None  # describe_selection: {resource_id, display}
    schedule: dict[str, Any] | None = None  # {import_option, frequency}
    credentials: dict[str, Any] | None = None  # the credentials-file entry given to setup

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_text(cls, workflow: str, text: str) -> Setup:
        """A setup as stored in the `setups` table; a damaged row is a UsageError."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"the saved setup of workflow {workflow!r} is damaged (not JSON: "
                             f"{exc}); run `manifest-runtime setup` again") from None
        if not isinstance(data, dict):
            raise UsageError(f"the saved setup of workflow {workflow!r} is damaged (a "
                             f"{type(data).__name__}, not an object); run `manifest-runtime "
                             "setup` again")
        return cls.from_json({"workflow": workflow, **data})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Setup:
        """A saved setup; a damaged one (edited by hand) is a UsageError."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        shapes: dict[str, type | tuple[type, ...]] = {
            "custom_data": dict, "mapping": dict, "connection": (dict, type(None)),
                  "selection": (dict, type(None)), "schedule": (dict, type(None)),
                  "credentials": (dict, type(None)), "workflow": str}
        for name, shape in shapes.items():
            if name in values and not isinstance(values[name], shape):
                raise UsageError(f"the saved setup of workflow {values.get('workflow')!r} is "
                                 f"damaged ({name} is a {type(values[name]).__name__}); run "
                                 "`manifest-runtime setup` again")
        return cls(**values)


@dataclass(frozen=True)
class Owner:
    """The process writing for a workflow (table `workflow_owners`)."""

    workflow: str
    command: str
    owner: str  # host:pid
    since: str
    started: str | None = None  # process_started() of the owner when it took the workflow

    def alive(self) -> bool:
        """Still running? A process of another machine cannot be checked: yes. A process
        of this machine with the owner's pid but another start time is not the owner (the
        pid was reused)."""
        host, _, pid = self.owner.rpartition(":")
        if host != _host() or not pid.isdigit():
            return True
        return process_alive(int(pid), self.started)

    def on_this_machine(self) -> bool:
        return self.owner.rpartition(":")[0] == _host()

    def describe(self) -> str:
        return f"`{self.command}` ({self.owner}, since {self.since})"


def _host() -> str:
    """This machine's name, as writers' marks hold it (socket loads here: a dry run takes no
    mark, start-up)."""
    import socket

    return socket.gethostname()


def stored_json(text: str, what: str) -> Any:
    """A JSON value kept in the state file; a damaged one (edited by hand, cut by a crash of
    another program) is a UsageError naming it."""
    try:
        return json.loads(text)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"the state file is damaged: {what} is not JSON ({exc}); fix or "
                         "delete that row, or give another --state file") from None


def state_path(given: str | None, env: Mapping[str, str] | None = None) -> str:
    """--state, else MANIFEST_RUNTIME_STATE, else the default path."""
    environ = os.environ if env is None else env
    return given or environ.get(ENV_VAR) or DEFAULT_PATH


def open_db(target: str) -> StateDB:
    """Open (or create) the state: a PostgreSQL URL (store/postgres.py), else a SQLite file
    (store/sqlite.py: a missing parent directory is created only for the default location;
    any other problem is a UsageError naming the file)."""
    return open_connection(target, DEFAULT_PATH)


class SqliteStore:
    """A `Store` (runtime/store.py) for `!save` data; each merge is one transaction."""

    def __init__(self, target: str | StateDB = DEFAULT_PATH,
                 lock: threading.RLock | None = None) -> None:
        self._owned = isinstance(target, str)
        self._db: StateDB = open_db(target) if isinstance(target, str) else target
        self._lock = lock or threading.RLock()
        with self._lock, self._db:
            self._db.execute(_SCHEMA)

    def get_all(self, scope: str) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM saved_data WHERE scope = ? "
                                    "ORDER BY key", (scope,)).fetchall()
        return {key: stored_json(value, f"saved data {scope}.{key}") for key, value in rows}

    def merge(self, scope: str, values: dict[str, Any]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO saved_data (scope, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
                [(scope, str(k), json.dumps(v, ensure_ascii=False)) for k, v in values.items()],
            )

    def close(self) -> None:
        if self._owned:
            self._db.close()


class StateFile:
    """The opened state (a SQLite file or a PostgreSQL database): the `!save` store, the
    setups, the sandbox account and the run journal share one connection, and one lock: a
    transaction of one part never takes in the half-done writes of another thread.

    `path` is what may be printed (a URL's password masked); `target` what was given."""

    def __init__(self, path: str) -> None:
        self.target = path
        self.path = shown(path)
        self.db: StateDB = open_db(path)
        self.lock = threading.RLock()
        self.store = SqliteStore(self.db, self.lock)
        with self.lock, self.db:
            self.db.executescript(_SETUP_SCHEMA)

    def save_setup(self, setup: Setup) -> None:
        data = json.dumps(setup.as_json(), ensure_ascii=False, sort_keys=True)
        with self.lock, self.db:
            self.db.execute(
                "INSERT INTO setups (workflow, data, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (workflow) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at",
                (setup.workflow, data, datetime.now(UTC).isoformat(timespec="seconds")))

    def load_setup(self, workflow: str) -> Setup | None:
        with self.lock:
            row = self.db.execute("SELECT data FROM setups WHERE workflow = ?",
                                  (workflow,)).fetchone()
        return Setup.from_text(workflow, row[0]) if row else None

    def load_polling_state(self, workflow: str) -> tuple[bool, Any]:
        """(stored?, ${polling_state}) of a workflow's polling intake."""
        with self.lock:
            row = self.db.execute("SELECT state FROM polling_state WHERE workflow = ?",
                                  (workflow,)).fetchone()
        if row is None or row[0] is None:
            return False, None
        return True, stored_json(row[0], f"the polling_state of workflow {workflow!r}")

    def polling_initialised(self, workflow: str) -> bool:
        """Has initial_setup run (since the last --reset)?"""
        with self.lock:
            return self.db.execute("SELECT 1 FROM polling_state WHERE workflow = ?",
                                   (workflow,)).fetchone() is not None

    def mark_polling_initialised(self, workflow: str) -> None:
        with self.lock, self.db:
            self.db.execute("INSERT OR IGNORE INTO polling_state (workflow, state, updated_at) "
                            "VALUES (?, NULL, ?)",
                            (workflow, datetime.now(UTC).isoformat(timespec="seconds")))

    def save_polling_state(self, workflow: str, state: Any) -> None:
        with self.lock, self.db:
            self.db.execute(
                "INSERT INTO polling_state (workflow, state, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (workflow) DO UPDATE SET state = excluded.state, "
                "updated_at = excluded.updated_at",
                (workflow, json.dumps(state, ensure_ascii=False),
                 datetime.now(UTC).isoformat(timespec="seconds")))

    def polling_states(self) -> list[tuple[str, bool, Any, str]]:
        """(workflow, stored?, ${polling_state}, updated_at) of every polling workflow whose
        initial_setup has run (for `state show`)."""
        with self.lock:
            rows = self.db.execute("SELECT workflow, state, updated_at FROM polling_state "
                                   "ORDER BY workflow").fetchall()
        return [(w, s is not None, None if s is None else
                 stored_json(s, f"the polling_state of workflow {w!r}"), at)
                for w, s, at in rows]

    def forget_polling_state(self, workflow: str) -> None:
        with self.lock, self.db:
            self.db.execute("DELETE FROM polling_state WHERE workflow = ?", (workflow,))

    def setups(self) -> list[Setup]:
        with self.lock:
            rows = self.db.execute("SELECT workflow, data FROM setups ORDER BY workflow"
                                   ).fetchall()
        return [Setup.from_text(workflow, data) for workflow, data in rows]

    # ------------------------------------------------------------------ one writer

    def claim(self, workflow: str, command: str) -> Owner | None:
        """Become the one process writing for `workflow`; None when claimed, else the live
        owner holding it. A mark left by a dead process is taken over: one of this machine
        whose pid is gone (or reused); on PostgreSQL also one of another machine, as an
        owner holds a session-level advisory lock while it writes (store/base.py `hold`),
        which the server lets go when the owner's process dies."""
        me = f"{_host()}:{os.getpid()}"
        alive = f"owner-alive:{workflow}"
        with self.lock:
            begin_exclusive(self.db, f"owner:{workflow}")  # look and take in one transaction
            try:
                row = self.db.execute("SELECT command, owner, since, started FROM "
                                      "workflow_owners WHERE workflow = ?", (workflow,)
                                      ).fetchone()
                held = hold(self.db, alive)  # None: SQLite, no such lock
                if row is not None:
                    owner = Owner(workflow, *row)
                    # PostgreSQL: alive while its session holds the lock, or (a process of
                    # this machine) while its pid runs
                    live = owner.alive() if held is None else \
                        not held or (owner.on_this_machine() and owner.alive())
                    if owner.owner != me and live:
                        self.db.rollback()
                        return owner
                elif held is False:  # its owner is releasing it this very moment
                    self.db.rollback()
                    return Owner(workflow, command, "another process",
                                 datetime.now(UTC).isoformat(timespec="seconds"))
                self.db.execute(
                    "INSERT INTO workflow_owners (workflow, command, owner, since, started) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workflow) DO UPDATE SET "
                    "command = excluded.command, owner = excluded.owner, "
                    "since = excluded.since, started = excluded.started",
                    (workflow, command, me, datetime.now(UTC).isoformat(timespec="seconds"),
                     process_started(os.getpid())))
            except BaseException:
                self.db.rollback()
                unhold(self.db, alive)
                raise
            self.db.commit()
        return None

    def release(self, workflow: str) -> None:
        with self.lock:
            unhold(self.db, f"owner-alive:{workflow}")  # first: a claim then takes over
            with self.db:
                self.db.execute("DELETE FROM workflow_owners WHERE workflow = ? AND "
                                "owner = ?", (workflow, f"{_host()}:{os.getpid()}"))

    def has_table(self, name: str) -> bool:
        with self.lock:
            return has_table(self.db, name)

    @contextmanager
    def batch(self) -> Iterator[BatchingDB]:
        """One transaction for many writes of many threads: the parts' commits wait for
        this one. On exit it commits, unless a part failed (`spoiled`) or an exception is
        raised: then nothing of it is kept. The caller makes sure no part is in flight
        when it exits."""
        db: BatchingDB = self.db  # type: ignore[assignment]  # both backends' are
        with self.lock:
            db.execute("BEGIN IMMEDIATE")
            db.batching, db.spoiled = True, False
        try:
            yield db
            with self.lock:
                if not db.spoiled:  # the parts' deferred writes (store/base.py Deferred)
                    flush_deferred(db)
        except BaseException:
            with self.lock:
                db.batching = False
                try:
                    db.rollback()
                finally:
                    end_deferred(db, False)
            raise
        with self.lock:
            db.batching = False
            committed = False
            try:
                if db.spoiled:
                    db.rollback()
                else:
                    db.commit()
                    committed = True
            finally:
                end_deferred(db, committed)

    def sandbox(self, contact: dict[str, Any] | None = None) -> SandboxAccount:
        """The embedded sandbox ActiveCampaign account in this file."""
        from .activecampaign import SandboxAccount

        return SandboxAccount(self.db, contact, self.lock)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> StateFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
