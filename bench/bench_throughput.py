"""`run` into the sandbox and `run --dry-run` against bare loops doing the same work, each a
whole process over the same input file, interleaved round by round (issue 11's targets).

    python bench/bench_throughput.py [--records 10000] [--rounds 5]

The workflow is examples/activetrail-contacts (`!jq` source, the mapping saved by `setup`,
`!resource ActiveCampaignContact`). The bare loops are small Python programs with the bare
primitives, reading the same JSON Lines file:

* `bare sandbox`: json.loads each line, the source program compiled with libjq
  (`input_value(v).first()`), a dict rename, an SQLite upsert (email -> JSON text) committed
  every 500 records;
* `bare dry`: json.loads, the compiled libjq program, the rename, `json.dumps` to stdout.

`run` gets a fresh state file set up for the workflow each round (new contacts, as the first
of bench_chunks.py's chunks). Prints per round the CPU seconds (user + system) and wall of
each process, then the medians and the median of the per-round ratios run/bare. The machine
is shared: compare within one run; the ratio pairs are what to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples/activetrail-contacts"
MANIFEST = str(EXAMPLE / "manifest.yaml")
SOURCE = '.member | {email, first_name, last_name, sms} + {_tags: (["activetrail"] + ["vip"])}'

BARE = r'''
import json, sqlite3, sys
import jq
mode, path = sys.argv[1], sys.argv[2]
program = jq.compile(sys.argv[3])
rename = {"email": "email", "first_name": "firstName", "last_name": "lastName", "sms": "phone"}
if mode == "sandbox":
    db = sqlite3.connect(sys.argv[4])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS contacts (email TEXT PRIMARY KEY, data TEXT)")
    n = 0
    with open(path, "rb") as f:
        for line in f:
            source = program.input_value(json.loads(line)).first()
            target = {rename.get(k, k): v for k, v in source.items()}
            db.execute("INSERT INTO contacts (email, data) VALUES (?, ?) ON CONFLICT (email) "
                       "DO UPDATE SET data = excluded.data",
                       (target["email"].lower(), json.dumps(target)))
            n += 1
            if n % 500 == 0:
                db.commit()
    db.commit()
else:
    write = sys.stdout.write
    with open(path, "rb") as f:
        for line in f:
            source = program.input_value(json.loads(line)).first()
            write(json.dumps({rename.get(k, k): v for k, v in source.items()}) + "\n")
'''


def payload(i: int) -> dict[str, object]:
    return {"member": {"email": f"member{i}@example.com", "first_name": f"First{i}",
                       "last_name": f"Last{i}", "sms": f"+1555{i:07d}",
                       "group_id": 1001, "joined_at": "2026-01-02T03:04:05Z"}}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU s of the child, wall s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    env = {**os.environ}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed wheel runs: bytecode kept
    subprocess.run([py, "-m", "compileall", "-q", str(ROOT / "manifest_runtime")], check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        data = tmp / "payloads.jsonl"
        with data.open("w") as f:
            for i in range(args.records):
                f.write(json.dumps(payload(i)) + "\n")
        setup = tmp / "setup.db"
        subprocess.run([py, "-m", "manifest_runtime", "setup", MANIFEST, "--answers",
                        str(EXAMPLE / "answers.yaml"), "--replay", str(EXAMPLE / "cassette.yaml"),
                        "--state", str(setup)], check=True, stdout=subprocess.DEVNULL, env=env)
        one = tmp / "one.jsonl"  # one record: the start-up of each command
        one.write_text(json.dumps(payload(10**9)) + "\n")
        rows: dict[str, list[tuple[float, float]]] = {k: [] for k in (
            "run", "bare sandbox", "run --dry-run", "bare dry")}
        starts: dict[str, list[tuple[float, float]]] = {k: [] for k in rows}
        for r in range(args.rounds):
            for table, given in ((rows, data), (starts, one)):
                state = tmp / f"state{r}-{given.stem}.db"
                shutil.copy(setup, state)
                bare_db = tmp / f"bare{r}-{given.stem}.db"
                table["run"].append(timed([py, "-m", "manifest_runtime", "run", MANIFEST,
                                           "--input", str(given), "--state", str(state)], env))
                table["bare sandbox"].append(timed([py, "-c", BARE, "sandbox", str(given),
                                                    SOURCE, str(bare_db)], env))
                table["run --dry-run"].append(timed([py, "-m", "manifest_runtime", "run",
                                                     MANIFEST, "--input", str(given),
                                                     "--state", str(state), "--dry-run"], env))
                table["bare dry"].append(timed([py, "-c", BARE, "dry", str(given), SOURCE],
                                               env))
            print(f"round {r + 1}: " + "  ".join(
                f"{k} {v[-1][0]:.2f}s cpu/{v[-1][1]:.2f}s" for k, v in rows.items()),
                flush=True)
    print(f"\n{args.records} records, {args.rounds} rounds, medians (CPU s user+sys / wall s):")
    for ours, bare in (("run", "bare sandbox"), ("run --dry-run", "bare dry")):
        cpu = statistics.median(a[0] / b[0] for a, b in zip(rows[ours], rows[bare], strict=True))
        wall = statistics.median(a[1] / b[1] for a, b in zip(rows[ours], rows[bare],
                                                             strict=True))
        print(f"{ours:>14}: {statistics.median(x[0] for x in rows[ours]):.3f} / "
              f"{statistics.median(x[1] for x in rows[ours]):.3f}   {bare}: "
              f"{statistics.median(x[0] for x in rows[bare]):.3f} / "
              f"{statistics.median(x[1] for x in rows[bare]):.3f}   ratio cpu {cpu:.2f}x, "
              f"wall {wall:.2f}x")
    print("\nwhere it goes (CPU, medians): start-up = the same command on one record; per "
          "record = (all - start-up) / records")
    for name in rows:
        start = statistics.median(x[0] for x in starts[name])
        every = (statistics.median(x[0] for x in rows[name]) - start) / args.records * 1e6
        print(f"{name:>14}: start-up {start * 1e3:6.0f} ms   per record {every:5.1f} us")


if __name__ == "__main__":
    main()
