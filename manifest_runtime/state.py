"""A small SQLite store for `!save` data (`${data.<scope>.<key>}`), kept between runs.

Only saved data for now; connections, custom_data, mappings, polling_state and dead letters
join this file with the state issue. Values are stored as JSON text, one row per key.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

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
        directory = os.path.dirname(path)
        if directory and path != ":memory:":
            os.makedirs(directory, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path)
        with self._db:
            self._db.execute(_SCHEMA)

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
