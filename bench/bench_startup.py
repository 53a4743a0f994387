"""Start-up of the commands against a bare Python process, each a whole process, interleaved
round by round (issue 11: start-up is ~12 µs of each record's share at 10,000 records).

    python bench/bench_startup.py [--rounds 9]

Commands (examples/activetrail-contacts unless said, one input record):

* `run --dry-run`: `run MANIFEST --input one.jsonl --dry-run` (bench_throughput.py's
  start-up column);
* `run`: the same record into the sandbox of a state file set up for the workflow;
* `poll`: `poll --once` of examples/email-api-polling (its historical import, then the
  scheduled poll, into the sandbox of a state file set up for it, a fresh copy each round),
  its requests answered by the example's cassette (`--replay`): the HTTP client is loaded;
* `validate -q`: of the activetrail manifest;
* `--help` of `run`, the top-level `--help` (every sub-command's parser);
* `bare`: `python -c "import jq, json, sqlite3"`, the bare loops' start-up.

The compiled manifests come from compiled_cache.py's cache (a directory of this run, filled by
the set-up), as on any start but the first after a change; `run --dry-run, no cache` is the
first start (MANIFEST_RUNTIME_NO_CACHE=1: read, validate and compile the manifest).

`--baseline DIR` adds the same commands (`base: ...`) run from another copy of the package, e.g.
the code before a change: `git archive main manifest_runtime schemas | tar -x -C /tmp/base`, then
`--baseline /tmp/base` (imported from DIR, this checkout's editable install set aside).

Bytecode is compiled first and kept (as an installed wheel has it). Prints per command the
median CPU (user + system of the child) and wall over the rounds, and the median of the
per-round ratios command/bare. The machine is shared: compare within one run.
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
AT = ROOT / "examples/activetrail-contacts"
POLLING = ROOT / "examples/email-api-polling"
BASELINE = """import sys
root = sys.argv.pop(1)
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, root)
sys.argv[0] = "manifest-runtime"
from manifest_runtime.cli import main
raise SystemExit(main())
"""


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(CPU s of the child, wall s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--baseline", metavar="DIR",
                        help="also time the commands with the package found in DIR")
    args = parser.parse_args()
    py = sys.executable
    mr = [py, "-m", "manifest_runtime"]
    env = {**os.environ}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed wheel runs: bytecode kept
    for package in [ROOT / "manifest_runtime"] + ([Path(args.baseline) / "manifest_runtime"]
                                                  if args.baseline else []):
        subprocess.run([py, "-m", "compileall", "-q", str(package)], check=True,
                       stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env["MANIFEST_RUNTIME_CACHE_DIR"] = str(tmp / "cache")
        env.pop("MANIFEST_RUNTIME_NO_CACHE", None)
        one = tmp / "one.jsonl"
        one.write_text(json.dumps({"member": {
            "email": "startup@example.com", "first_name": "Ada", "last_name": "Lovelace",
            "sms": "+15550000001", "group_id": 1001, "joined_at": "2026-01-02T03:04:05Z"}}) + "\n")
        at_state, poll_state = tmp / "at.db", tmp / "poll.db"
        for manifest, answers, cassette, state in (
                (AT / "manifest.yaml", AT / "answers.yaml", AT / "cassette.yaml", at_state),
                (POLLING / "manifest.yaml", POLLING / "answers.yaml", POLLING / "cassette.yaml",
                 poll_state)):
            subprocess.run([*mr, "setup", str(manifest), "--answers", str(answers), "--replay",
                            str(cassette), "--state", str(state)], check=True,
                           stdout=subprocess.DEVNULL, env=env)
        commands: dict[str, list[str]] = {
            "bare": [py, "-c", "import jq, json, sqlite3"],
            "run --dry-run": [*mr, "run", str(AT / "manifest.yaml"), "--input", str(one),
                              "--state", str(tmp / "r.db"), "--dry-run"],
            "run --dry-run, no cache": [*mr, "run", str(AT / "manifest.yaml"), "--input",
                                        str(one), "--state", str(tmp / "r.db"), "--dry-run"],
            "run": [*mr, "run", str(AT / "manifest.yaml"), "--input", str(one), "--restart",
                    "--state", str(tmp / "r.db"), "-q"],
            "poll": [*mr, "poll", str(POLLING / "manifest.yaml"), "--once", "--replay",
                     str(POLLING / "cassette.yaml"), "--state", str(tmp / "p.db"), "-q"],
            "validate -q": [*mr, "validate", "-q", str(AT / "manifest.yaml")],
            "run --help": [*mr, "run", "--help"],
            "--help": [*mr, "--help"],
        }
        if args.baseline:
            for name in ("run --dry-run", "run", "poll", "validate -q", "run --help"):
                commands[f"base: {name}"] = [py, "-c", BASELINE, args.baseline,
                                             *commands[name][3:]]
        shutil.copy(at_state, tmp / "r.db")
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
        for r in range(args.rounds):
            for name, cmd in commands.items():
                if name.endswith("poll"):
                    shutil.copy(poll_state, tmp / "p.db")
                times[name].append(timed(cmd, {**env, "MANIFEST_RUNTIME_NO_CACHE": "1"}
                                         if "no cache" in name else env, tmp))
            print(f"round {r + 1}: " + "  ".join(
                f"{k} {v[-1][0] * 1e3:.0f}" for k, v in times.items()) + " (ms CPU)",
                flush=True)
    bare = times["bare"]
    print(f"\n{args.rounds} rounds, medians: CPU ms (user+sys) / wall ms, ratio to bare "
          "(median of the per-round ratios)")
    for name, got in times.items():
        cpu = statistics.median(a[0] / b[0] for a, b in zip(got, bare, strict=True))
        wall = statistics.median(a[1] / b[1] for a, b in zip(got, bare, strict=True))
        print(f"{name:>23}: {statistics.median(x[0] for x in got) * 1e3:6.1f} / "
              f"{statistics.median(x[1] for x in got) * 1e3:6.1f}   "
              f"ratio cpu {cpu:5.2f}x, wall {wall:5.2f}x")


if __name__ == "__main__":
    main()
