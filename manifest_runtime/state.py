"""The state file (DESIGN §6): one SQLite database per project holding runtime state and the
embedded sandbox ActiveCampaign account.

It holds `!save` data (`${data.<scope>.<key>}`, table `saved_data`), what `setup` chose per
workflow (table `setups`: connection, custom_data, mapping, selection, schedule, credentials),
the sandbox account's records (tables `ac_*`, activecampaign/storage.py), and what `run`
records (pipeline/journal.py: delivered records, dead letters).

The path is `--state PATH`, else the environment variable MANIFEST_RUNTIME_STATE, else
`.manifest-runtime/state.db` in the current directory. `:memory:` keeps everything in memory
for one run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Mapping
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


def state_path(given: str | None, env: Mapping[str, str] | None = None) -> str:
    """--state, else MANIFEST_RUNTIME_STATE, else the default path."""
    environ = os.environ if env is None else env
    return given or environ.get(ENV_VAR) or DEFAULT_PATH


def open_db(path: str) -> sqlite3.Connection:
    """Open (or create) a state file. A missing parent directory is created only for the
    default location; any other problem is a UsageError naming the file."""
    if path == MEMORY:
        return sqlite3.connect(MEMORY, check_same_thread=False)
    directory = os.path.dirname(path)
    if path == DEFAULT_PATH and directory:
        os.makedirs(directory, exist_ok=True)
    if os.path.isdir(path):
        raise UsageError(f"--state {path}: is a directory; give a file name, e.g. "
                         f"{os.path.join(path, 'state.db')}")
    if directory and not os.path.isdir(directory):
        raise UsageError(f"--state {path}: the directory {directory} does not exist")
    try:
        db = sqlite3.connect(path, check_same_thread=False, timeout=30.0)  # wait for writers
        db.execute("PRAGMA journal_mode=WAL")  # readers (sandbox listings) never block a run
        # in WAL mode, NORMAL commits without an fsync each (~0.3 ms here): a killed process
        # loses nothing; only a power cut may drop the last commits (the file stays sound)
        db.execute("PRAGMA synchronous=NORMAL")
        _claim(db, path)
    except sqlite3.DatabaseError as exc:  # not a database, unreadable, locked, ...
        raise UsageError(f"--state {path}: cannot use it as the state database ({exc}); "
                         "give a new file name or a file written by manifest-runtime"
                         ) from None
    return db


APPLICATION_ID = 0x4D525354  # "MRST": marks a SQLite file as a manifest-runtime state file
OUR_TABLES = frozenset({"saved_data", "setups", "polling_state", "run_records",
                        "dead_letters", "webhook_journal", "webhook_registrations", "ac_ids",
                        "historical_imports",
                        "ac_records", "ac_tags", "ac_custom_fields", "sqlite_sequence"})


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
        return {key: json.loads(value) for key, value in rows}

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
        return Setup.from_json(json.loads(row[0])) if row else None

    def load_polling_state(self, workflow: str) -> tuple[bool, Any]:
        """(stored?, ${polling_state}) of a workflow's polling intake."""
        with self.lock:
            row = self.db.execute("SELECT state FROM polling_state WHERE workflow = ?",
                                  (workflow,)).fetchone()
        return (True, json.loads(row[0])) if row and row[0] is not None else (False, None)

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
        return [(w, s is not None, None if s is None else json.loads(s), at)
                for w, s, at in rows]

    def forget_polling_state(self, workflow: str) -> None:
        with self.lock, self.db:
            self.db.execute("DELETE FROM polling_state WHERE workflow = ?", (workflow,))

    def setups(self) -> list[Setup]:
        with self.lock:
            rows = self.db.execute("SELECT data FROM setups ORDER BY workflow").fetchall()
        return [Setup.from_json(json.loads(data)) for (data,) in rows]

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
