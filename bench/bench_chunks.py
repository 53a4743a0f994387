"""Flat cost: 10 successive chunks of 10,000 webhook payloads `run` into one state file.

    python bench/bench_chunks.py [--chunks 10] [--records 10000]

Uses examples/activetrail-contacts (inbound webhook workflow: `!jq` source, the mapping saved
by `setup`, `!resource ActiveCampaignContact` into the sandbox of the state file). Each chunk
is a separate `manifest-runtime run` process (start-up included) with new contacts, so the
sandbox, the tags and the journal grow chunk after chunk. Prints seconds per chunk (wall, and
CPU of the process: steadier while other work shares the machine), the last/first ratios
(flat: about 1.0), and the first chunk against a bare loop doing the same
work in one process: compiled jq source, dict rename, SQLite upsert committed every 500.
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

import jq

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples/activetrail-contacts"
MANIFEST = str(EXAMPLE / "manifest.yaml")
SOURCE = '.member | {email, first_name, last_name, sms} + {_tags: (["activetrail"] + ["vip"])}'
RENAME = {"email": "email", "first_name": "firstName", "last_name": "lastName", "sms": "phone"}


def payload(i: int) -> dict[str, Any]:
    return {"member": {"email": f"member{i}@example.com", "first_name": f"First{i}",
                       "last_name": f"Last{i}", "sms": f"+1555{i:07d}",
                       "group_id": 1001, "joined_at": "2026-01-02T03:04:05Z"}}


def cli(*args: str, env: dict[str, str] | None = None) -> float:
    """Run the CLI; its CPU seconds (user + system: steadier than wall on a busy machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "manifest_runtime", *args], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bare(records: list[Any], db_path: str) -> float:
    program = jq.compile(SOURCE)
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE contacts (email TEXT PRIMARY KEY, data TEXT NOT NULL)")
    start = time.process_time()  # CPU, as the chunks' figures
    for n, value in enumerate(records, 1):
        source = program.input_value(value).first()
        target = {RENAME.get(k, k): v for k, v in source.items()}
        db.execute("INSERT INTO contacts (email, data) VALUES (?, ?) ON CONFLICT (email) "
                   "DO UPDATE SET data = excluded.data",
                   (target["email"].lower(), json.dumps(target)))
        if n % 500 == 0:
            db.commit()
    db.commit()
    elapsed = time.process_time() - start
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--records", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = str(Path(tmp) / "state.db")
        env = {**os.environ, "MANIFEST_RUNTIME_STATE": state}
        cli("setup", MANIFEST, "--answers", str(EXAMPLE / "answers.yaml"), "--replay",
            str(EXAMPLE / "cassette.yaml"), "--state", state, env=env)
        times, cpus = [], []
        for c in range(args.chunks):
            chunk = Path(tmp) / f"chunk{c}.jsonl"
            with chunk.open("w") as f:
                for i in range(c * args.records, (c + 1) * args.records):
                    f.write(json.dumps(payload(i)) + "\n")
            start = time.perf_counter()
            cpus.append(cli("run", MANIFEST, "--input", str(chunk), "--state", state, env=env))
            times.append(time.perf_counter() - start)
            print(f"chunk {c + 1:2}: {times[-1]:6.2f} s wall, {cpus[-1]:5.2f} s CPU  "
                  f"({args.records / times[-1]:,.0f} records/s)", flush=True)
        db = sqlite3.connect(state)
        contacts = db.execute("SELECT COUNT(*) FROM ac_records WHERE kind = 'contact'"
                              ).fetchone()[0]
        db.close()
        assert contacts == args.chunks * args.records, contacts
        floor = bare([payload(i) for i in range(args.records)], str(Path(tmp) / "bare.db"))
    print(f"last/first chunk: {times[-1] / times[0]:.2f} wall, {cpus[-1] / cpus[0]:.2f} CPU  "
          f"(sandbox holds {contacts:,} contacts)")
    print(f"first chunk vs bare loop (jq + rename + upsert, commit every 500; CPU, in one "
          f"process, start-up and input parsing not included): {cpus[0]:.2f} s vs "
          f"{floor:.2f} s = {cpus[0] / floor:.1f}x")


if __name__ == "__main__":
    main()
