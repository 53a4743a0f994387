"""Benchmark `validate`: a 1.5 MB manifest of repeated workflows, a 50 MB one, and start-up.

    python bench/bench_validate.py [--workflows 760] [--runs 5] [--big-mb 50] [--skip-big]

The manifest is one ordinary outbound workflow (connect, a dropdown whose options come from
`!pipe [!http, !jq]`, describe_selection, and a data_pipeline target `!pipe [!jq, !http,
!switch [!jq, !error]]`) copied under unique names, as JSON. Printed, each against the bare
primitive measured in the same run:

* `json.loads` of the text (the floor: reading the values at C speed);
* `validate` in-process (load + schema + compile + checks; notes off, as the CLI runs it
  without -v), with the jq verdict cache cold (every distinct program compiled by libjq) and
  warm (re-validating an unchanged manifest), and with -v (notes located);
* the same manifest with every jq program distinct (cold and warm verdict cache);
* `manifest-runtime validate` of a ~50 MB manifest in a child process: wall time and peak RSS
  against the file size (MANIFEST_RUNTIME_MAX_BYTES raised for it);
* loading the same manifest written as YAML, against libyaml composing it (C loader);
* start-up: `manifest-runtime validate <Twilio config>` against
  `python -c "import jq, httpx, lark, yaml, jsonschema"`.

The jq verdict cache lives in a temporary directory (MANIFEST_RUNTIME_CACHE_DIR), so the
user's own cache is neither used nor touched.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def workflow(i: int, distinct_jq: bool) -> dict[str, Any]:
    """One ordinary outbound workflow named `send-<i>` (valid, no warnings)."""
    n = f", n: {i}" if distinct_jq else ""
    return {
        "name": f"send-{i}",
        "label": f"Example - Send a message ({i})",
        "type": "automations",
        "auth": "token",
        "setup": {
            "connect": {
                "label": "Connect your account",
                "describe_connection": {"!pipe": [
                    {"!http": {"method": "GET", "path": "/me"}},
                    {"!jq": f"{{account_id: .id, description: .name{n}}}"},
                ]},
            },
            "select": {
                "label": "Choose a list",
                "form_fields": [
                    {"label": "List", "id": "list", "type": "dropdown", "options": {"!pipe": [
                        {"!http": {"method": "GET", "path": "/lists",
                                   "params": {"limit": 100}}},
                        {"!jq": f"[.lists[] | {{display: .name, value: .id{n}}}]"},
                    ]}},
                    {"label": "Message", "id": "message", "type": "textarea"},
                ],
                "describe_selection": {
                    "resource_id": {"!jq": "${custom_data.list.value}"},
                    "display": {"!jq": "${custom_data.list.display}"},
                },
            },
        },
        "data_pipeline": {
            "source": {"!resource": "ActiveCampaignContact"},
            "target": {"!pipe": [
                {"!jq": f"{{email: .email, first_name: .firstName, last_name: .lastName{n}}}"},
                {"!http": {
                    "method": "POST",
                    "path": "/lists/${custom_data.list.value}/members",
                    "body": {"member": "${piped_content.1}",
                             "message": "${custom_data.message.value}"},
                }},
                {"!switch": {
                    "jq": "if .status == 201 then 0 else 1 end",
                    "cases": [
                        {"!jq": f"{{id: .body.id, sent: true{n}}}"},
                        {"!error": "the member was not added"},
                    ],
                }},
            ]},
        },
    }


def build_manifest(workflows: int, distinct_jq: bool = False) -> str:
    manifest = {
        "$version": "2",
        "api": {"base_url": "https://api.example.com/v1"},
        "auth": {"token": {
            "type": "token",
            "header_key": "Authorization",
            "verify_url": "https://api.example.com/v1/me",
            "defined_fields": {"token": {"label": "API token", "placeholder": "tok_...",
                                         "help_text": "Settings > API"}},
        }},
        "workflows": [workflow(i, distinct_jq) for i in range(workflows)],
    }
    return json.dumps(manifest, indent=1)


def best_of(runs: int, fn: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def validate_in_process(text: str, notes: bool = False) -> Any:
    from manifest_runtime.compile import compile_manifest
    from manifest_runtime.compile.walk import paused_gc
    from manifest_runtime.source import parse_json

    with paused_gc():  # as load_and_compile does (the CLI)
        compiled = compile_manifest(parse_json(text, "bench.json"), notes=notes, keep=False)
    assert compiled.valid, compiled.diagnostics[:3]
    return compiled


def cold_jq() -> None:
    """Forget every jq verdict and compiled program (in memory and on disk)."""
    import shutil

    from manifest_runtime.commands import jq as jq_command

    jq_command.forget_compiled()
    shutil.rmtree(os.environ["MANIFEST_RUNTIME_CACHE_DIR"], ignore_errors=True)


def time_command(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workflows", type=int, default=760)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-mb", type=float, default=50.0)
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="mr-bench-cache-")
    os.environ["MANIFEST_RUNTIME_CACHE_DIR"] = cache

    validate_in_process(build_manifest(2))  # one-time costs: Lark grammar, schema validator
    for distinct in (False, True):
        text = build_manifest(args.workflows, distinct)
        label = "distinct jq programs" if distinct else "repeated jq programs"
        floor, _ = best_of(args.runs, lambda t=text: json.loads(t))

        def cold(t: str = text) -> Any:
            cold_jq()
            return validate_in_process(t)

        cold_time, _ = best_of(args.runs, cold)
        warm_time, compiled = best_of(args.runs, lambda t=text: validate_in_process(t))
        print(f"{len(text) / 1e6:.2f} MB, {args.workflows} workflows ({label}): json.loads "
              f"{floor * 1000:.1f} ms; validate {cold_time * 1000:.0f} ms with the jq verdict "
              f"cache cold ({cold_time / floor:.0f}x), {warm_time * 1000:.0f} ms warm "
              f"({warm_time / floor:.0f}x); {len(compiled.diagnostics)} diagnostics")
        if not distinct:
            verbose, compiled = best_of(args.runs,
                                        lambda t=text: validate_in_process(t, notes=True))
            print(f"  with -v (every !http step's note located): {verbose * 1000:.0f} ms, "
                  f"{len(compiled.diagnostics)} notes")

    yaml_loading(build_manifest(args.workflows), args.runs)

    # the floor's libraries come with bytecode from their install; give ours the same (an
    # installed wheel is byte-compiled; PYTHONDONTWRITEBYTECODE would otherwise make every
    # start-up compile our modules from source)
    compileall.compile_dir(str(ROOT / "manifest_runtime"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_big:
            big(Path(tmp), args.big_mb)
        twilio = str(ROOT / "examples/twilio-sms/manifest.json")
        floor = time_command([sys.executable, "-c", "import jq, httpx, lark, yaml, jsonschema"],
                             args.runs * 2)
        ours = time_command([sys.executable, "-m", "manifest_runtime", "validate", twilio],
                            args.runs * 2)
    print(f"start-up: bare imports {floor * 1000:.0f} ms, validate (Twilio) {ours * 1000:.0f} ms,"
          f" ratio {ours / floor:.2f}x (target <= 1.5x)")


def yaml_loading(json_text: str, runs: int) -> None:
    """The same manifest as YAML: our loader (values with their places) against libyaml's
    composing alone (PyYAML's C loader, the node graph our loader walks)."""
    import yaml

    from manifest_runtime.compile.walk import paused_gc
    from manifest_runtime.source import parse_yaml

    text = yaml.safe_dump(json.loads(json_text), sort_keys=False, width=100)
    with paused_gc():  # as load_and_compile reads
        floor, _ = best_of(runs, lambda: yaml.compose(text, Loader=yaml.CSafeLoader))
        ours, _ = best_of(runs, lambda: parse_yaml(text, "bench.yaml"))
    print(f"{len(text) / 1e6:.2f} MB as YAML: yaml.compose (C loader) {floor * 1000:.0f} ms; "
          f"loading it with places {ours * 1000:.0f} ms ({ours / floor:.1f}x)")


# the child reports its own peak RSS: Linux's VmHWM of the process image (getrusage's
# ru_maxrss survives execve, so it would count the benchmark's own pages from before exec)
CHILD = """
import resource, runpy, sys
sys.argv = ["manifest-runtime", "validate", sys.argv[1]]
try:
    runpy.run_module("manifest_runtime", run_name="__main__")
finally:
    try:
        peak = next(int(line.split()[1]) for line in open("/proc/self/status")
                    if line.startswith("VmHWM:"))
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("peak-rss-kib", peak, file=sys.stderr)
"""


def big(tmp: Path, size_mb: float) -> None:
    per_workflow = len(build_manifest(20)) / 20
    count = int(size_mb * 1e6 / per_workflow)
    file = tmp / "big.json"
    file.write_text(build_manifest(count))
    size = file.stat().st_size
    env = {**os.environ, "MANIFEST_RUNTIME_MAX_BYTES": str(size + 1)}
    for label in ("cold jq verdict cache", "warm"):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, str(file)],
                              capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
        rss = next(int(line.split()[1]) * 1024 for line in proc.stderr.splitlines()
                   if line.startswith("peak-rss-kib"))
        print(f"{size / 1e6:.1f} MB, {count} workflows, `validate` in a child process "
              f"({label}): exit {proc.returncode} in {wall:.2f} s (target < 10 s), peak RSS "
              f"{rss / 1e6:.0f} MB = {rss / size:.1f}x the file (target < 10x)")
        last = proc.stdout.strip().splitlines()[-1:] or [proc.stderr.strip()[:200]]
        print(f"  {last[0]}")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "manifest_runtime", "validate", str(file)],
                          capture_output=True, text=True, check=False)
    print(f"  with the default size limit: exit {proc.returncode} in "
          f"{time.perf_counter() - start:.2f} s: {proc.stdout.splitlines()[0]}")


if __name__ == "__main__":
    main()
