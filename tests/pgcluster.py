"""A throwaway PostgreSQL cluster for the tests (conftest.py: one per session): `initdb` and
`pg_ctl` of the Debian package `postgresql`, run as the `postgres` OS user when the tests run
as root (the server refuses root), in a temporary directory, on a free port of 127.0.0.1,
password authentication over TCP (the user `postgres`, PASSWORD: so the tests see a real login
and a refused one, and that a URL's password is never printed), no fsync; stopped and removed
at the end of the session."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass

REQUIRE = "MANIFEST_RUNTIME_REQUIRE_POSTGRES"  # set (CI): a missing server fails, not skips
PASSWORD = "pg-TEST-pw-1"  # of the user postgres over TCP


def binaries() -> str | None:
    """The directory holding initdb and pg_ctl (PostgreSQL 15 first), or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda d: (d.split("/")[-2] != "15", d))
    found = shutil.which("initdb")
    if found:
        candidates.append(os.path.dirname(os.path.realpath(found)))
    for directory in candidates:
        if all(os.access(os.path.join(directory, b), os.X_OK) for b in ("initdb", "pg_ctl")):
            return directory
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    bin: str
    root: str
    port: int
    as_user: list[str]
    _numbers: itertools.count[int]
    _shared: bool = False  # the database `state` (new_schema) exists

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database; its URL (~50 ms)."""
        import psycopg

        name = f"db{next(self._numbers)}"
        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def new_schema(self) -> str:
        """A fresh empty schema of the database `state`, as its own state: the URL names it
        (search_path), as docs/state.md shows. Much quicker than a database."""
        import psycopg

        name = f"s{next(self._numbers)}"
        with psycopg.connect(self.admin_url, autocommit=True) as db:
            if not self._shared:
                db.execute("CREATE DATABASE state")
                self._shared = True
        with psycopg.connect(self.url("state"), autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {name}")
        return f"{self.url('state')}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        subprocess.run([*self.as_user, f"{self.bin}/pg_ctl", "-D", f"{self.root}/data",
                        "-m", "immediate", "-w", "stop"], capture_output=True, check=False,
                       timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


PREFIX = "mr-pg-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_stale(directory: str, as_user: list[str]) -> None:
    """Clusters of earlier sessions whose test process was killed (no chance to stop them):
    stopped and removed, so they do not pile up."""
    for root in glob.glob(os.path.join(tempfile.gettempdir(), f"{PREFIX}*")):
        try:
            with open(os.path.join(root, "session.pid"), encoding="ascii") as f:
                session = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if _alive(session):
            continue
        subprocess.run([*as_user, f"{directory}/pg_ctl", "-D", f"{root}/data", "-m",
                        "immediate", "-w", "stop"], capture_output=True, check=False,
                       timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def start() -> Cluster:
    """initdb + pg_ctl start; RuntimeError (with the server's log) when it does not come up."""
    directory = binaries()
    if directory is None:
        raise FileNotFoundError("initdb/pg_ctl not found (Debian: apt-get install postgresql)")
    root = tempfile.mkdtemp(prefix=PREFIX)
    with open(os.path.join(root, "session.pid"), "w", encoding="ascii") as f:
        f.write(str(os.getpid()))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        runuser = shutil.which("runuser")
        as_user = [runuser, "-u", "postgres", "--"] if runuser else \
            ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    _stop_stale(directory, as_user)
    with open(os.path.join(root, "pwfile"), "w", encoding="ascii") as f:
        f.write(PASSWORD + "\n")
    if as_user:
        os.chown(os.path.join(root, "pwfile"), user.pw_uid, user.pw_gid)
    init = subprocess.run([*as_user, f"{directory}/initdb", "-D", f"{root}/data",
                           "--auth-local=trust", "--auth-host=scram-sha-256",
                           f"--pwfile={root}/pwfile", "-U", "postgres", "-E", "UTF8",
                           "--locale=C", "--no-sync"],
                          capture_output=True, text=True, check=False, timeout=120)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip()}")
    for _ in range(3):  # a port taken between the probe and the start: another one
        port = _free_port()
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        started = subprocess.run([*as_user, f"{directory}/pg_ctl", "-D", f"{root}/data", "-l",
                                  f"{root}/log", "-w", "-t", "60", "-o", options, "start"],
                                 capture_output=True, text=True, check=False, timeout=120)
        if started.returncode == 0:
            return Cluster(directory, root, port, as_user, itertools.count(1))
    with open(f"{root}/log", encoding="utf-8", errors="replace") as f:
        log = f.read()[-2000:]
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()}\n{log}")
