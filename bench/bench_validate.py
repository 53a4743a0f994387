"""Benchmark `validate`: a generated ~1 MB manifest, and CLI start-up against the import floor.

    python bench/bench_validate.py [--size-mb 1.0] [--runs 5]

The manifest repeats the published Twilio workflow and the ActiveTrail inbound example under
different names (a large app with many similar workflows), so identical jq programs are
compiled once (the compile cache); a second figure shows the cost when every jq program is
distinct. Start-up compares `manifest-runtime validate <tiny manifest>` with
`python -c "import jq, httpx, lark, yaml, jsonschema"` in the same run and prints the ratio.
"""

from __future__ import annotations

import argparse
import compileall
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_manifest(size_mb: float, distinct_jq: bool) -> str:
    import yaml

    twilio = json.loads((ROOT / "examples/twilio-sms/manifest.json").read_text())
    workflow = twilio["workflows"][0]
    manifest = copy.deepcopy(twilio)
    manifest["workflows"] = []
    i = 0
    while True:
        w = copy.deepcopy(workflow)
        w["name"] = f"twilio-send-{i}"
        w["label"] = f"Twilio - Send an SMS ({i})"
        if distinct_jq:
            opts = w["setup"]["select"]["form_fields"][0]["options"]["!pipe"][1]
            opts["!jq"] = opts["!jq"].replace(".sid}", f".sid, n: {i}}}")
        manifest["workflows"].append(w)
        i += 1
        if i % 50 == 0 and len(json.dumps(manifest, indent=2)) >= size_mb * 1_000_000:
            break
    del yaml
    return json.dumps(manifest, indent=2)


def time_validate(text: str, runs: int) -> tuple[float, int, int]:
    """Best time of load (JSON text -> data + positions) plus compile, cold jq cache each run."""
    from manifest_runtime.commands.jq import compile_jq_text
    from manifest_runtime.compile import compile_manifest
    from manifest_runtime.source import parse_json

    times = []
    diagnostics = 0
    for _ in range(runs):
        compile_jq_text.cache_clear()
        start = time.perf_counter()
        compiled = compile_manifest(parse_json(text, "bench.json"))
        times.append(time.perf_counter() - start)
        diagnostics = len(compiled.diagnostics)
        assert compiled.valid
    return min(times), diagnostics, len(text)


def time_command(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    # warm the one-time costs (Lark grammar, schema validator) as a real process pays them once
    time_validate(build_manifest(0.01, False), 1)
    for distinct in (False, True):
        text = build_manifest(args.size_mb, distinct)
        best, n_diag, size = time_validate(text, args.runs)
        label = "distinct jq programs" if distinct else "repeated jq programs"
        print(f"validate {size / 1e6:.2f} MB ({label}): best of {args.runs} = {best * 1000:.0f} ms"
              f" ({n_diag} diagnostics)")

    # the floor's libraries come with bytecode from their install; give ours the same (an
    # installed wheel is byte-compiled; PYTHONDONTWRITEBYTECODE would otherwise make every
    # start-up compile our ~60 modules from source, ~45 ms here)
    compileall.compile_dir(str(ROOT / "manifest_runtime"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        tiny = Path(tmp) / "tiny.json"
        tiny.write_text((ROOT / "examples/twilio-sms/manifest.json").read_text())
        floor = time_command([sys.executable, "-c", "import jq, httpx, lark, yaml, jsonschema"],
                             args.runs * 2)
        ours = time_command([sys.executable, "-m", "manifest_runtime", "validate", str(tiny)],
                            args.runs * 2)
    print(f"start-up: bare imports {floor * 1000:.0f} ms, validate (Twilio) {ours * 1000:.0f} ms,"
          f" ratio {ours / floor:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
