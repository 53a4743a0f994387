"""The state's layout version and the steps from one version to the next, per backend.

The tables themselves are made by the modules that own them (`CREATE TABLE IF NOT EXISTS`);
a version step changes what exists (renames a table, adds a column) so that those
statements and the queries fit again. An older state is brought up to SCHEMA_VERSION when
opened, in one transaction that one process at a time runs (the others wait for it, then
find it done); a newer one is refused: that manifest-runtime knows tables this one would
misread.

SQLite keeps the version in the file's header (`PRAGMA user_version`); PostgreSQL in the
table `manifest_runtime_meta` (key `schema_version`). A new PostgreSQL database starts at
SCHEMA_VERSION: version 2 is the first layout it was ever written in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from .base import StateDB, begin_exclusive, columns, has_table
from .errors import StateUnavailable

SCHEMA_VERSION = 2
META = "manifest_runtime_meta"
OUR_TABLES = frozenset({"saved_data", "setups", "polling_state", "run_records",
                        "run_records_v1", "workflow_owners", "dead_letters", "webhook_journal",
                        "webhook_registrations", "webhook_digests", "webhook_receivers",
                        "historical_imports", "ac_ids", "ac_records",
                        "ac_tags", "ac_custom_fields", "sqlite_sequence", "sqlite_stat1",
                        META})

Step = Callable[[StateDB], None]


def _version_2(db: StateDB) -> None:
    """Resume marks by record identity (pipeline/journal.py): the old per-file marks are
    kept in `run_records_v1`; dead letters get the record's identity."""
    if "run_key" in columns(db, "run_records"):
        db.execute("ALTER TABLE run_records RENAME TO run_records_v1")
    have = columns(db, "dead_letters")
    if have and "record_id" not in have:
        db.execute("ALTER TABLE dead_letters ADD COLUMN record_id TEXT")


# version -> the step from the version before it; version 1 is the layout before versions
SQLITE_MIGRATIONS: dict[int, Step] = {1: lambda db: None, 2: _version_2}
# PostgreSQL databases start at version 2; later versions add their steps here too
POSTGRES_MIGRATIONS: dict[int, Step] = {}


def migrate_sqlite(db: sqlite3.Connection, path: str) -> None:
    """Bring the file to SCHEMA_VERSION (one transaction); refuse a newer file."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        # not a usage error: the state is there, this program is too old for it (exit 1, as
        # on PostgreSQL)
        raise StateUnavailable(f"--state {path}: written by a newer manifest-runtime (state "
                               f"version {version}; this one reads up to {SCHEMA_VERSION}); "
                               "upgrade manifest-runtime, or give another state file")
    db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        for step in range(version + 1, SCHEMA_VERSION + 1):
            SQLITE_MIGRATIONS[step](db)
        db.execute(f"PRAGMA user_version = {max(version, SCHEMA_VERSION)}")
    except BaseException:
        sqlite3.Connection.rollback(db)
        raise
    sqlite3.Connection.commit(db)


def postgres_version(db: StateDB) -> int | None:
    """The database's layout version; None: not a manifest-runtime state (yet)."""
    if not has_table(db, META):
        return None
    row = db.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def migrate_postgres(db: StateDB, where: str) -> None:
    """Mark a new database with SCHEMA_VERSION, bring an older one to it (one transaction
    under an advisory lock); refuse a newer one, and one whose tables are another
    program's."""
    if postgres_version(db) == SCHEMA_VERSION:
        return
    begin_exclusive(db, "manifest-runtime schema")
    try:
        db.execute(f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, "
                   "value TEXT NOT NULL)")
        version = postgres_version(db)
        if version is None:
            clash = sorted(t for t in OUR_TABLES - {META} if has_table(db, t))
            if clash:
                raise StateUnavailable(
                    f"--state {where}: the database has tables named like manifest-runtime's "
                    f"({', '.join(clash[:5])}) but is not a manifest-runtime state; give a "
                    "database of its own (createdb NAME), or a schema of its own with "
                    "?options=-csearch_path%3DNAME in the URL")
            version = SCHEMA_VERSION
        if version > SCHEMA_VERSION:
            raise StateUnavailable(
                f"--state {where}: written by a newer manifest-runtime (state version "
                f"{version}; this one reads up to {SCHEMA_VERSION}); upgrade "
                "manifest-runtime, or give another database")
        for step in range(version + 1, SCHEMA_VERSION + 1):
            POSTGRES_MIGRATIONS[step](db)
        db.execute(f"INSERT INTO {META} (key, value) VALUES ('schema_version', ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   (str(SCHEMA_VERSION),))
    except BaseException:
        db.rollback()
        raise
    db.commit()
