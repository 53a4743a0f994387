"""The state store: where manifest-runtime keeps setups, the run journal, dead letters,
polling state, historical imports, workflow owners, webhook registrations and the webhook
journal, `!save` data and the sandbox account (DESIGN §6).

Two backends behind one connection protocol (`StateDB`, base.py): a SQLite file (the
default; sqlite.py) and a PostgreSQL database (`--state postgresql://...`; postgres.py).
`open_connection` picks one from the `--state` value; schema.py versions the layout of both.
"""

from __future__ import annotations

from .base import (
    BatchingDB,
    Cursor,
    Deferred,
    Dialect,
    StateDB,
    begin_exclusive,
    columns,
    deferred,
    dialect_of,
    end_deferred,
    flush_deferred,
    has_table,
    hold,
    unhold,
)
from .errors import StateUnavailable, StoreError
from .schema import SCHEMA_VERSION
from .urls import is_postgres, shown

__all__ = ["SCHEMA_VERSION", "BatchingDB", "Cursor", "Deferred", "Dialect", "StateDB",
           "StateUnavailable", "StoreError", "begin_exclusive", "columns", "deferred",
           "dialect_of", "end_deferred", "flush_deferred", "has_table", "hold", "is_postgres",
           "open_connection", "shown", "unhold"]


def open_connection(target: str, default_path: str) -> StateDB:
    """The state connection for a `--state` value: a PostgreSQL URL, else a SQLite file
    path (or `:memory:`), migrated to SCHEMA_VERSION."""
    if is_postgres(target):
        from .postgres import connect
        from .schema import migrate_postgres

        db = connect(target)
        try:
            migrate_postgres(db, shown(target))
        except BaseException:
            db.close()
            raise
        return db
    from .sqlite import open_sqlite

    return open_sqlite(target, default_path)
