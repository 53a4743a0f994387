"""How the state store fails.

* `StateUnavailable`: the state cannot be opened (PostgreSQL server unreachable, login
  refused, a database written by a newer manifest-runtime): the command stops before doing
  anything, with a message and a hint (exit 1). The URL's password is never in it.
* `StoreError`: a statement failed on PostgreSQL while working (the server went away, a
  disk filled up). It is a `sqlite3.DatabaseError`, so that every place that already stops
  cleanly on a failing SQLite state file (`except sqlite3.Error`: the batch engine keeps
  whole batches, the CLI prints the error and exits 1) does the same on PostgreSQL.
"""

from __future__ import annotations

import sqlite3


class StateUnavailable(Exception):
    """The state cannot be opened; the message names it (password masked) and says what to
    do."""


class StoreError(sqlite3.DatabaseError):
    """A PostgreSQL statement of the state store failed (the cause is chained)."""
