"""The state in a PostgreSQL database (`--state postgresql://user:password@host/db`), for
several processes or machines sharing one state (serve behind a load balancer, run on
Dask workers). psycopg 3 on one connection per StateFile, shared by threads under the
StateFile's lock, as the SQLite connection is.

`PgConnection` speaks the part of the sqlite3 API the state modules use (execute,
executemany, executescript, commit, rollback, `with db:`), with sqlite3's transaction
rules (store/base.py), on a psycopg connection in autocommit mode: it opens a transaction
itself before a write, so a read alone never leaves one open (no idle transaction holding
locks). Each statement's text goes through store/dialect.py once.

The tables are created by the modules that own them (`CREATE TABLE IF NOT EXISTS`), here
inside a transaction that holds an advisory lock, so that processes starting at once on a
new database do not trip over each other's DDL; each script runs once per connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from . import dialect
from .base import Cursor, lock_key
from .errors import StateUnavailable, StoreError
from .urls import password_of, shown

if TYPE_CHECKING:
    import psycopg

_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP)\b", re.IGNORECASE)
_T = TypeVar("_T")
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE
SCHEMA_LOCK = "manifest-runtime schema"
CONNECT_TIMEOUT = 10  # seconds


class PgConnection:
    """A state connection on PostgreSQL (see the module's docstring)."""

    dialect = "postgresql"
    batching = False  # StateFile.batch: the parts' commits wait for the batch's
    spoiled = False

    def __init__(self, raw: psycopg.Connection[Any], target: str) -> None:
        self._raw = raw
        self._target = target  # to connect again; never printed (`shown` is)
        self.shown = shown(target)
        self._scripts: set[str] = set()
        self._held: set[int] = set()  # session-level advisory locks held (store/base.py hold)

    # ------------------------------------------------------------------ sqlite3's API

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        if _DDL.match(sql) and not parameters:
            self._schema_change(dialect.script(sql), commit_first=False)
            return self._raw.cursor()  # nothing to fetch
        text = dialect.statement(sql)
        values = tuple(parameters)
        writes = bool(_WRITES.match(sql))

        def run() -> Cursor:
            if text == "BEGIN":
                if self.in_transaction:
                    raise StoreError("cannot start a transaction within a transaction")
            elif writes and not self.in_transaction:
                self._raw.execute("BEGIN")
            return self._raw.execute(text, values)

        return self._reconnecting(run)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> None:
        rows = [tuple(p) for p in parameters]
        if not rows:
            return
        text = dialect.statement(sql)
        writes = bool(_WRITES.match(sql))

        def run() -> None:
            if writes and not self.in_transaction:
                self._raw.execute("BEGIN")
            with self._raw.cursor() as cursor:
                cursor.executemany(text, rows)

        self._reconnecting(run)

    def hold(self, key: int) -> bool:
        """A session-level advisory lock: True when held (now or already)."""
        if key in self._held:
            return True
        taken = bool(self.execute("SELECT pg_try_advisory_lock(CAST(? AS BIGINT))",
                                  (key,)).fetchone()[0])
        if taken:
            self._held.add(key)
        return taken

    def unhold(self, key: int) -> None:
        if key in self._held:
            self._held.discard(key)
            self.execute("SELECT pg_advisory_unlock(CAST(? AS BIGINT))", (key,))

    def _reconnecting(self, run: Callable[[], _T]) -> _T:
        """Run a statement. When the server ended the session (a restart, a failover, an
        idle timeout) while no transaction was open, nothing is lost: connect again and
        run it once more. Inside a transaction the error stands (its writes are gone)."""
        idle = not self.batching and not self.in_transaction
        try:
            return run()
        except Exception as exc:
            if not (idle and (self._raw.closed or self._raw.broken)):
                raise self._error(exc) from exc
            try:
                self._raw.close()
                self._raw = _connect_raw(self._target)
            except Exception:
                raise self._error(exc) from exc
            self._hold_again()
        try:
            return run()
        except Exception as exc:
            raise self._error(exc) from exc

    def executescript(self, sql_script: str, /) -> None:
        """DDL (no parameters), under the schema's advisory lock; once per connection."""
        if sql_script in self._scripts:
            return
        self._schema_change(dialect.script(sql_script), commit_first=True)
        self._scripts.add(sql_script)

    def _schema_change(self, text: str, *, commit_first: bool) -> None:
        """DDL in a transaction holding the schema's advisory lock: processes that make the
        same tables at once take turns (PostgreSQL's CREATE ... IF NOT EXISTS is not safe
        against a concurrent one). In the transaction under way, if any (a migration step);
        else in one of its own, committed at once. `commit_first` (executescript, as
        sqlite3's): what is pending is committed before."""
        own = False
        try:
            if commit_first and self.in_transaction and not self.batching:
                self._raw.execute("COMMIT")
            own = not self.in_transaction
            if own:
                self._raw.execute("BEGIN")
            self._raw.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(SCHEMA_LOCK),))
            self._raw.execute(text)
            if own:
                self._raw.execute("COMMIT")
        except Exception as exc:
            if own and not self._raw.closed and self.in_transaction:
                with suppress(Exception):  # the error that matters is `exc`
                    self._raw.execute("ROLLBACK")
            raise self._error(exc) from exc

    def _hold_again(self) -> None:
        """After connecting again: the locks the lost session held, taken again. One that
        another process took meanwhile (it saw this one gone) is a StoreError: this process
        no longer writes alone for that workflow, so it stops."""
        for key in list(self._held):
            row = self._raw.execute("SELECT pg_try_advisory_lock(%s::bigint)",
                                    (key,)).fetchone()
            if not (row and row[0]):
                self._held.discard(key)
                raise StoreError("the session with the state database was lost, and another "
                                 "process took over a workflow this one was writing for; "
                                 "this one stops (run it again to go on)")

    def commit(self) -> None:
        if self.batching or not self.in_transaction:
            return
        try:
            self._raw.execute("COMMIT")
        except Exception as exc:
            raise self._error(exc) from exc

    def rollback(self) -> None:
        if self.batching:
            self.spoiled = True
            return
        if self._raw.closed or not self.in_transaction:
            return
        try:
            self._raw.execute("ROLLBACK")
        except Exception as exc:
            raise self._error(exc) from exc

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any, /) -> Literal[False]:
        if self.batching:
            if kind is not None:
                self.rollback()
            return False
        if kind is None:
            self.commit()
        else:
            self.rollback()
        return False

    @property
    def in_transaction(self) -> bool:
        if self._raw.closed or self._raw.broken:  # a lost session holds no transaction
            return False
        return self._raw.info.transaction_status != _IDLE

    # ------------------------------------------------------------------ errors

    def _error(self, exc: Exception) -> Exception:
        import psycopg

        if isinstance(exc, StoreError):
            return exc
        if not isinstance(exc, psycopg.Error):
            return exc
        if isinstance(exc, StateUnavailable):
            return StoreError(str(exc))
        return StoreError(masked(first_line(exc), self._target))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def masked(text: str, target: str) -> str:
    """`text` without the URL's password: the URL itself (a driver's message may quote a
    malformed one whole) as `shown`, then any other occurrence of the password."""
    text = text.replace(target, shown(target))
    password = password_of(target)
    return text.replace(password, "***") if password else text


def connect(target: str) -> PgConnection:
    """Connect to the state database; StateUnavailable (with a hint) when it cannot be."""
    where = shown(target)
    try:
        import psycopg  # noqa: F401  (installed?)
    except ImportError:
        raise StateUnavailable(
            f"--state {where}: a PostgreSQL state needs the psycopg package, which is not "
            "installed; pip install 'psycopg[binary]>=3.1,<4'") from None
    return PgConnection(_connect_raw(target), target)


def _connect_raw(target: str) -> psycopg.Connection[Any]:
    import psycopg

    try:
        raw = psycopg.connect(target, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                              application_name="manifest-runtime")
    except psycopg.Error as exc:
        reason = masked(" ".join(str(exc).split()), target)
        raise StateUnavailable(f"--state {shown(target)}: cannot connect to PostgreSQL: "
                               f"{reason}; {_hint(reason)}") from None
    raw.adapters.register_dumper(str, _nul_safe_dumper())
    return raw


def _nul_safe_dumper() -> type:
    """PostgreSQL text cannot hold U+0000 (SQLite's can): a string with one (an error
    message quoting a payload) is stored with U+FFFD instead, rather than failing the
    statement and stopping the run."""
    from psycopg.types.string import StrDumperUnknown

    class NulSafeStrDumper(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\x00", "\ufffd") if "\x00" in obj else obj)

    return NulSafeStrDumper


def _hint(reason: str) -> str:
    lowered = reason.lower()
    if "password" in lowered or "authentication" in lowered or "role" in lowered:
        return ("check the user name and password in the URL (or PGPASSWORD, ~/.pgpass) and "
                "the server's pg_hba.conf")
    if "database" in lowered and "does not exist" in lowered:
        return "create the database first (e.g. `createdb NAME`) or name another in the URL"
    if any(word in lowered for word in ("invalid", "missing", "option", "uri",
                                        "end of string")):
        return ("write the URL as postgresql://USER:PASSWORD@HOST:PORT/DATABASE (see "
                "docs/state.md)")
    return ("is the server running and reachable at that host and port? (check with "
            "`pg_isready -h HOST -p PORT`)")
