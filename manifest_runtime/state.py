"""The state file (DESIGN §6): one SQLite database per project holding runtime state and the
embedded sandbox ActiveCampaign account.

It holds `!save` data (`${data.<scope>.<key>}`, table `saved_data`), what `setup` chose per
workflow (table `setups`: connection, custom_data, mapping, selection, schedule, credentials),
the sandbox account's records (tables `ac_*`, activecampaign/storage.py), what `run`
records (pipeline/journal.py: where each record stands, dead letters) and which process is
running each workflow (table `workflow_owners`: one writer per workflow).

The file's layout has a version (`PRAGMA user_version`, `SCHEMA_VERSION`): an older file is
migrated when opened (MIGRATIONS, in one transaction), a newer one is refused.

The path is `--state PATH`, else the environment variable MANIFEST_RUNTIME_STATE, else
`.manifest-runtime/state.db` in the current directory. `:memory:` keeps everything in memory
for one run.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .activecampaign import SandboxAccount

DEFAULT_PATH = os.path.join(".manifest-runtime", "state.db")
ENV_VAR = "MANIFEST_RUNTIME_STATE"
MEMORY = ":memory:"

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
        if host != socket.gethostname() or not pid.isdigit():
            return True
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, someone else's
            pass
        now = process_started(int(pid))
        return not (self.started and now and now != self.started)

    def describe(self) -> str:
        return f"`{self.command}` ({self.owner}, since {self.since})"


def process_started(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[19] if len(fields) > 19 else None


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


def open_db(path: str) -> sqlite3.Connection:
    """Open (or create) a state file. A missing parent directory is created only for the
    default location; any other problem is a UsageError naming the file."""
    if path == MEMORY:
        db = sqlite3.connect(MEMORY, check_same_thread=False, factory=StateConnection)
        _migrate(db, path)
        return db
    directory = os.path.dirname(path)
    if path == DEFAULT_PATH and directory:
        os.makedirs(directory, exist_ok=True)
    if os.path.isdir(path):
        raise UsageError(f"--state {path}: is a directory; give a file name, e.g. "
                         f"{os.path.join(path, 'state.db')}")
    if directory and not os.path.isdir(directory):
        raise UsageError(f"--state {path}: the directory {directory} does not exist")
    private_file(path)
    try:
        db = sqlite3.connect(path, check_same_thread=False, timeout=30.0,  # wait for writers
                             factory=StateConnection)
        db.execute("PRAGMA journal_mode=WAL")  # readers (sandbox listings) never block a run
        # in WAL mode, NORMAL commits without an fsync each (~0.3 ms here): a killed process
        # loses nothing; only a power cut may drop the last commits (the file stays sound)
        db.execute("PRAGMA synchronous=NORMAL")
        _claim(db, path)
        _migrate(db, path)
    except sqlite3.DatabaseError as exc:  # not a database, unreadable, locked, ...
        raise UsageError(f"--state {path}: cannot use it as the state database ({exc}); "
                         "give a new file name or a file written by manifest-runtime"
                         ) from None
    return db


class StateConnection(sqlite3.Connection):
    """The state file's connection. While `batching` (StateFile.batch), the commits of the
    parts (`with db:`, `commit()`) are deferred to the batch's one commit, and a part's
    rollback spoils the batch (`spoiled`: the batch is rolled back whole)."""

    batching = False
    spoiled = False

    def commit(self) -> None:
        if not self.batching:
            super().commit()

    def rollback(self) -> None:
        if self.batching:
            self.spoiled = True
            return
        super().rollback()

    def __exit__(self, kind: Any, value: Any, tb: Any) -> Any:
        if self.batching:
            if kind is not None:
                self.rollback()
            return False
        return super().__exit__(kind, value, tb)


SCHEMA_VERSION = 2


def _version_2(db: sqlite3.Connection) -> None:
    """Resume marks by record identity (pipeline/journal.py): the old per-file marks are
    kept in `run_records_v1`; dead letters get the record's identity."""
    if "run_key" in _columns(db, "run_records"):
        db.execute("ALTER TABLE run_records RENAME TO run_records_v1")
    columns = _columns(db, "dead_letters")
    if columns and "record_id" not in columns:
        db.execute("ALTER TABLE dead_letters ADD COLUMN record_id TEXT")


# version -> the step from the version before it; version 1 is the layout before versions
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: lambda db: None,
                                                               2: _version_2}


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _migrate(db: sqlite3.Connection, path: str) -> None:
    """Bring the file to SCHEMA_VERSION (one transaction); refuse a newer file."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise UsageError(f"--state {path}: written by a newer manifest-runtime (state version "
                         f"{version}; this one reads up to {SCHEMA_VERSION}); upgrade "
                         "manifest-runtime, or give another state file")
    db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        for step in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](db)
        db.execute(f"PRAGMA user_version = {max(version, SCHEMA_VERSION)}")
    except BaseException:
        sqlite3.Connection.rollback(db)
        raise
    sqlite3.Connection.commit(db)


def private_file(path: str) -> None:
    """The state file holds credentials (setup's stored connection): readable by its owner
    only. A new file is created with mode 0600 (SQLite gives its -wal and -shm files the
    database file's mode); an existing one, and its -wal/-shm, are narrowed to 0600."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for name in (path, f"{path}-wal", f"{path}-shm"):
            try:
                if os.stat(name).st_mode & 0o077:
                    os.chmod(name, 0o600)
            except OSError:  # absent, or not ours: SQLite reports what matters
                pass
    except OSError:  # e.g. a read-only directory: SQLite reports it
        return
    else:
        os.close(fd)


APPLICATION_ID = 0x4D525354  # "MRST": marks a SQLite file as a manifest-runtime state file
OUR_TABLES = frozenset({"saved_data", "setups", "polling_state", "run_records",
                        "run_records_v1", "workflow_owners", "dead_letters", "webhook_journal",
                        "webhook_registrations", "historical_imports", "ac_ids", "ac_records",
                        "ac_tags", "ac_custom_fields", "sqlite_sequence", "sqlite_stat1"})


def _claim(db: sqlite3.Connection, path: str) -> None:
    """Refuse another program's SQLite file (its tables would clash with ours); mark a new
    file (or one written before the mark existed, holding only our tables) as ours."""
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    if app_id == APPLICATION_ID:
        return
    tables = {name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id != 0 or not tables <= OUR_TABLES:
        foreign = ", ".join(sorted(tables - OUR_TABLES)[:5]) or f"application id {app_id}"
        raise UsageError(f"--state {path}: a SQLite file of another program ({foreign}); "
                         "give a new file name or a file written by manifest-runtime")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


class SqliteStore:
    """A `Store` (runtime/store.py) for `!save` data; each merge is one transaction."""

    def __init__(self, target: str | sqlite3.Connection = DEFAULT_PATH,
                 lock: threading.RLock | None = None) -> None:
        self._owned = not isinstance(target, sqlite3.Connection)
        self._db = open_db(target) if isinstance(target, str) else target
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
    """The opened state file: the `!save` store, the setups, the sandbox account and the run
    journal share one connection, and one lock: a transaction of one part never takes in the
    half-done writes of another thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = open_db(path)
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
        owner holding it. A mark left by a dead process of this machine is taken over."""
        me = f"{socket.gethostname()}:{os.getpid()}"
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")  # look and take in one write transaction
            try:
                row = self.db.execute("SELECT command, owner, since, started FROM "
                                      "workflow_owners WHERE workflow = ?", (workflow,)
                                      ).fetchone()
                if row is not None:
                    owner = Owner(workflow, *row)
                    if owner.owner != me and owner.alive():
                        self.db.rollback()
                        return owner
                self.db.execute(
                    "INSERT INTO workflow_owners (workflow, command, owner, since, started) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workflow) DO UPDATE SET "
                    "command = excluded.command, owner = excluded.owner, "
                    "since = excluded.since, started = excluded.started",
                    (workflow, command, me, datetime.now(UTC).isoformat(timespec="seconds"),
                     process_started(os.getpid())))
            except BaseException:
                self.db.rollback()
                raise
            self.db.commit()
        return None

    def release(self, workflow: str) -> None:
        with self.lock, self.db:
            self.db.execute("DELETE FROM workflow_owners WHERE workflow = ? AND owner = ?",
                            (workflow, f"{socket.gethostname()}:{os.getpid()}"))

    @contextmanager
    def batch(self) -> Iterator[StateConnection]:
        """One transaction for many writes of many threads: the parts' commits wait for
        this one. On exit it commits, unless a part failed (`spoiled`) or an exception is
        raised: then nothing of it is kept. The caller makes sure no part is in flight
        when it exits."""
        db = self.db
        assert isinstance(db, StateConnection)
        with self.lock:
            db.execute("BEGIN IMMEDIATE")
            db.batching, db.spoiled = True, False
        try:
            yield db
        except BaseException:
            with self.lock:
                db.batching = False
                db.rollback()
            raise
        with self.lock:
            db.batching = False
            if db.spoiled:
                db.rollback()
            else:
                db.commit()

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
