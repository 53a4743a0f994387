"""The state store's backends side by side: `run` of N webhook payloads into the sandbox of
a SQLite state file, then of a PostgreSQL state (a throwaway local cluster, as the tests
start one: tests/pgcluster.py; needs initdb/pg_ctl).

    python bench/bench_state.py [--records 20000]

Uses examples/activetrail-contacts (`!jq` source, the saved mapping, `!resource
ActiveCampaignContact` into the sandbox: every record's contact, tags and journal row are
state writes, in one transaction per chunk). Prints seconds (wall, and the CPU of the
`run` process) and records/s per backend, the
PostgreSQL/SQLite ratio, and the same against a bare loop per backend (the contacts' upsert
and the journal row by executemany, committed every 500: what the state writes cost at the
least on that database).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
EXAMPLE = ROOT / "examples/activetrail-contacts"
MANIFEST = str(EXAMPLE / "manifest.yaml")


def payload(i: int) -> dict[str, Any]:
    return {"member": {"email": f"member{i}@example.com", "first_name": f"First{i}",
                       "last_name": f"Last{i}", "sms": f"+1555{i:07d}"}}


def cli(*args: str, state: str) -> tuple[float, float]:
    """(wall s, CPU s of the process: user + system; the server's work is not in it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "manifest_runtime", *args, "--state", state],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_backend(state: str, inputs: str) -> tuple[float, float]:
    cli("setup", MANIFEST, "--answers", str(EXAMPLE / "answers.yaml"), "--replay",
        str(EXAMPLE / "cassette.yaml"), state=state)
    return cli("run", MANIFEST, "--input", inputs, "--quiet", state=state)


ROWS_SQL = [
    "CREATE TABLE IF NOT EXISTS c (k TEXT PRIMARY KEY, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS j (k TEXT PRIMARY KEY, state TEXT NOT NULL)",
]


def bare(db: Any, mark: str, n: int) -> float:
    """Upsert n contacts and n journal rows by executemany, committing every 500."""
    for sql in ROWS_SQL:
        db.execute(sql)
    db.commit()
    upsert = (f"INSERT INTO c (k, data) VALUES ({mark}, {mark}) ON CONFLICT (k) DO UPDATE "
              "SET data = excluded.data")
    journal = (f"INSERT INTO j (k, state) VALUES ({mark}, 'delivered') ON CONFLICT (k) DO "
               "UPDATE SET state = excluded.state")
    started = time.perf_counter()
    for at in range(0, n, 500):
        rows = [(f"m{i}@example.com", json.dumps(payload(i))) for i in range(at, min(n, at + 500))]
        cursor = db.cursor()
        cursor.executemany(upsert, rows)
        cursor.executemany(journal, [(k,) for k, _ in rows])
        db.commit()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    n = parser.parse_args().records
    import pgcluster
    import psycopg

    cluster = pgcluster.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inputs = os.path.join(tmp, "in.jsonl")
            with open(inputs, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(payload(i)) + "\n" for i in range(n))
            sqlite_run, sqlite_cpu = run_backend(os.path.join(tmp, "state.db"), inputs)
            pg_run, pg_cpu = run_backend(cluster.new_database(), inputs)
            sqlite_bare = bare(sqlite3.connect(os.path.join(tmp, "bare.db")), "?", n)
            with psycopg.connect(cluster.new_database()) as pg:
                pg_bare = bare(pg, "%s", n)
    finally:
        cluster.stop()
    print(f"{n} records into the sandbox (run, one process, start-up included)")
    print(f"  SQLite      {sqlite_run:7.2f} s ({sqlite_cpu:6.2f} s CPU)  "
          f"{n / sqlite_run:8.0f} records/s   bare writes {sqlite_bare:6.2f} s")
    print(f"  PostgreSQL  {pg_run:7.2f} s ({pg_cpu:6.2f} s CPU)  "
          f"{n / pg_run:8.0f} records/s   bare writes {pg_bare:6.2f} s")
    print(f"  PostgreSQL / SQLite: run {pg_run / sqlite_run:.2f}x, "
          f"bare writes {pg_bare / sqlite_bare:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
