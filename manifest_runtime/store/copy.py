"""Copy a whole state into an empty one: a SQLite file into PostgreSQL when one machine is
no longer enough (or back). Every table of manifest-runtime the source has, row for row,
in one transaction of the target; the numbering of dead letters and webhooks goes on from
the copied numbers. Not copied: `workflow_owners` (which process writes for a workflow
now: nobody, in a new place) and the version-1 resume marks `run_records_v1`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import UsageError
from .base import StateDB, columns, dialect_of, has_table
from .schema import META

SKIPPED = frozenset({"workflow_owners", "run_records_v1", "sqlite_sequence", "sqlite_stat1",
                     META})
# tables whose rows are what a user made (not defaults written on opening a state)
USER_DATA = ("setups", "saved_data", "run_records", "dead_letters", "webhook_journal",
             "webhook_registrations", "polling_state", "historical_imports", "ac_records")
IDENTITY = {"dead_letters": "id", "webhook_journal": "id", "ac_tags": "id"}


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def copy_state(source: StateDB, target: StateDB, tables: list[str],
               make_tables: Callable[[StateDB], None]) -> list[Copied]:
    """Copy `tables` (those of the source that are ours) from source to target. The target
    gets every table first (`make_tables`), must hold no user data, and its defaults (the
    sandbox's custom fields) are replaced by the source's rows."""
    make_tables(target)
    full = [t for t in USER_DATA if has_table(target, t) and
            target.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is not None]
    if full:
        raise UsageError(f"the target state is not empty (it has {', '.join(full)}); copy "
                         "into a new database or file")
    copied: list[Copied] = []
    with target:
        for table in tables:
            if table in SKIPPED or not has_table(target, table):
                continue
            shared = sorted(columns(source, table) & columns(target, table))
            names = ", ".join(shared)
            rows = source.execute(f"SELECT {names} FROM {table}").fetchall()
            target.execute(f"DELETE FROM {table}")
            if rows:
                marks = ", ".join("?" * len(shared))
                target.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            copied.append(Copied(table, len(rows)))
            key = IDENTITY.get(table)
            if key and rows and dialect_of(target) == "postgresql":  # go on from the copy
                target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'), "
                               f"(SELECT MAX({key}) FROM {table}))")
    return copied
