"""Benchmark `run` into the sandbox of the state file: one transaction per record
(`--batch-size 1`) against one per batch of 500, side by side in one run.

    python bench/bench_batches.py [--records 5000] [--runs 3]

The job is the bundled ActiveTrail example's workflow (`!jq` source, the saved mapping,
`!resource ActiveCampaignContact` into the sandbox), each mode into a fresh state file on disk.
Prints µs per record (whole command, start-up included) and the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

from manifest_runtime.cli import main
from manifest_runtime.state import Setup, StateFile

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = str(ROOT / "examples" / "activetrail-contacts" / "manifest.yaml")
SETUP = Setup(
    "activetrail-member-to-contact",
    custom_data={"group": {"value": "1001", "display": "Group 1"},
                 "tag": {"value": "vip", "display": "vip"}},
    mapping={"email": "email", "first_name": "firstName", "last_name": "lastName"},
    selection={"resource_id": "1001", "display": "Group 1"})


def one(tmp: Path, payloads: str, batch: int, n: int) -> float:
    state = tmp / f"state-{batch}-{time.monotonic_ns()}.db"
    with StateFile(str(state)) as s:
        s.save_setup(SETUP)
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["run", MANIFEST, "--input", payloads, "--state", str(state),
                     "--batch-size", str(batch)])
    elapsed = time.perf_counter() - start
    assert code == 0 and f"delivered {n}," in out.getvalue(), out.getvalue()
    return elapsed / n * 1e6


def bench(records: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        payloads = tmp / "payloads.jsonl"
        payloads.write_text("".join(json.dumps({"member": {
            "email": f"u{i}@example.com", "first_name": f"F{i}", "last_name": "L"}}) + "\n"
            for i in range(records)))
        per_record = min(one(tmp, str(payloads), 1, records) for _ in range(runs))
        batched = min(one(tmp, str(payloads), 500, records) for _ in range(runs))
    print(f"into the sandbox: batch of 500 {batched:8.1f} us/record   one per record "
          f"{per_record:8.1f} us/record   ratio {batched / per_record:.2f}x "
          f"({records} records, best of {runs})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    bench(options.records, options.runs)
