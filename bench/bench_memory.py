"""Memory flat: peak RSS of `run` over 1,000,000 input lines (streaming read, nothing kept per
record), against the same run over a tenth of the lines.

    python bench/bench_memory.py [--lines 1000000] [--sandbox]

Uses examples/activetrail-contacts (set up from its answers and cassette into a temporary state
file). Each measurement is one `manifest-runtime run` process (`--dry-run` by default: source
and transform, JSON lines to /dev/null; `--sandbox`: delivered into the sandbox and journaled,
much slower); its peak RSS is the child's ru_maxrss. Prints both peaks and their ratio (flat:
about 1.0; the target is < 100 MB at 1M lines).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples/activetrail-contacts"
MANIFEST = str(EXAMPLE / "manifest.yaml")


def write_lines(path: Path, count: int) -> None:
    with path.open("w") as f:
        for i in range(count):
            f.write(json.dumps({"member": {"email": f"member{i}@example.com",
                                           "first_name": f"First{i}", "last_name": f"Last{i}",
                                           "sms": f"+1555{i:07d}"}}) + "\n")


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one manifest-runtime process."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen([sys.executable, "-m", "manifest_runtime", *args],
                                stdout=devnull, stderr=subprocess.PIPE, env=env)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"manifest-runtime {' '.join(args)} failed:\n{err.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--sandbox", action="store_true",
                        help="deliver into the sandbox instead of --dry-run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = str(Path(tmp) / "state.db")
        env = {**os.environ, "MANIFEST_RUNTIME_STATE": state}
        subprocess.run([sys.executable, "-m", "manifest_runtime", "setup", MANIFEST,
                        "--answers", str(EXAMPLE / "answers.yaml"), "--replay",
                        str(EXAMPLE / "cassette.yaml")], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        mode = [] if args.sandbox else ["--dry-run"]
        peaks = []
        for count in (args.lines // 10, args.lines):
            lines = Path(tmp) / f"in{count}.jsonl"
            write_lines(lines, count)
            seconds, peak = measure(["run", MANIFEST, "--input", str(lines), *mode], env)
            peaks.append(peak)
            print(f"{count:>9,} lines: peak RSS {peak:6.1f} MB  ({seconds:.1f} s, "
                  f"{count / seconds:,.0f} records/s)", flush=True)
            lines.unlink()
    print(f"peak RSS {args.lines:,} / {args.lines // 10:,} lines: {peaks[1] / peaks[0]:.2f}  "
          f"(target: < 100 MB at 1,000,000 lines, flat)")


if __name__ == "__main__":
    main()
