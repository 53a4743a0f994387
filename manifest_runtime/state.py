"""A small SQLite store for `!save` data (`${data.<scope>.<key>}`), kept between runs.

Only saved data for now; connections, custom_data, mappings, polling_state and dead letters
join this file with the state issue. Values are stored as JSON text, one row per key.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from .errors import UsageError

DEFAULT_PATH = os.path.join(".manifest-runtime", "state.db")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS saved_data (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
)
"""


class SqliteStore:
    """A `Store` (runtime/store.py) in one SQLite file; each merge is one transaction."""

    def __init__(self, path: str = DEFAULT_PATH) -> None:
        """Open (or create) the state file. A missing parent directory is created only for
        the default location; any other problem is a UsageError naming the file."""
        directory = os.path.dirname(path)
        if path == DEFAULT_PATH and directory:
            os.makedirs(directory, exist_ok=True)
        self.path = path
        if os.path.isdir(path):
            raise UsageError(f"--state {path}: is a directory; give a file name, e.g. "
                             f"{os.path.join(path, 'state.db')}")
        if directory and not os.path.isdir(directory):
            raise UsageError(f"--state {path}: the directory {directory} does not exist")
        try:
            self._db = sqlite3.connect(path)
            with self._db:
                self._db.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:  # not a database, unreadable, locked, ...
            raise UsageError(f"--state {path}: cannot use it as the state database ({exc}); "
                             "give a new file name or a file written by manifest-runtime"
                             ) from None

    def get_all(self, scope: str) -> dict[str, Any]:
        rows = self._db.execute("SELECT key, value FROM saved_data WHERE scope = ? ORDER BY key",
                                (scope,))
        return {key: json.loads(value) for key, value in rows}

    def merge(self, scope: str, values: dict[str, Any]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT INTO saved_data (scope, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
                [(scope, str(k), json.dumps(v, ensure_ascii=False)) for k, v in values.items()],
            )

    def close(self) -> None:
        self._db.close()
