"""Start-up structure (issue 11): a command loads what it uses. Each test runs the command in a
fresh interpreter and looks at `sys.modules` afterwards; no timings (bench/bench_startup.py
measures them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_run_cli import AT, AT_SETUP, seed

SCRIPT = """import json, sys
from manifest_runtime.cli import main
try:
    code = main(sys.argv[2:])
finally:
    sys.stdout.flush()
    with open(sys.argv[1], "w") as f:
        json.dump(sorted(sys.modules), f)
raise SystemExit(code)
"""

# never needed by a run in one process whose target is the sandbox (no HTTP of its own)
NOT_FOR_A_RUN = (
    "httpx", "dask", "distributed", "concurrent.futures", "lark", "jsonschema",
    "manifest_runtime.pipeline.distributed", "manifest_runtime.http.pagination",
    "manifest_runtime.http.auth", "manifest_runtime.http.redirect",
    "manifest_runtime.cli.init", "manifest_runtime.cli.eval", "manifest_runtime.cli.poll",
    "manifest_runtime.cli.serve", "manifest_runtime.cli.setup", "manifest_runtime.cli.studio",
    "manifest_runtime.cli.state", "manifest_runtime.cli.graph", "manifest_runtime.cli.testcases",
    "manifest_runtime.scaffold", "manifest_runtime.studio", "manifest_runtime.graph",
    "manifest_runtime.setup", "manifest_runtime.intake",
)


def modules_after(tmp_path: Path, *argv: str) -> tuple[int, str, set[str]]:
    """(exit code, stdout, the modules loaded) of `manifest-runtime ARGV` in a new process."""
    out = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(out), *argv],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, set(json.loads(out.read_text()))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The modules of `names` (or under them) that are loaded."""
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def payloads(tmp_path: Path) -> str:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"member": {"email": "ada@example.com", "first_name": "Ada"}})
                    + "\n")
    return str(path)


def test_a_dry_run_loads_neither_http_nor_dask_nor_other_commands(tmp_path: Path) -> None:
    seed(AT_SETUP)
    code, out, modules = modules_after(tmp_path, "run", AT, "--input", payloads(tmp_path),
                                       "--dry-run", "--quiet")
    assert code == 0 and json.loads(out)["email"] == "ada@example.com"
    assert "manifest_runtime.cli.run" in modules and "jq" in modules
    assert loaded(modules, NOT_FOR_A_RUN) == []


def test_a_run_into_the_sandbox_loads_neither_http_nor_dask(tmp_path: Path) -> None:
    seed(AT_SETUP)
    code, _, modules = modules_after(tmp_path, "run", AT, "--input", payloads(tmp_path),
                                     "--quiet")
    assert code == 0
    assert "manifest_runtime.activecampaign.storage" in modules
    assert loaded(modules, NOT_FOR_A_RUN) == []


def test_the_help_still_lists_every_command(tmp_path: Path) -> None:
    """Only `--help` (and a usage error) builds every command's parser."""
    from manifest_runtime.cli import COMMANDS

    code, out, modules = modules_after(tmp_path, "--help")
    assert code == 0
    for name in COMMANDS:
        assert f"\n    {name} " in out
    assert "manifest_runtime.cli.serve" in modules and "manifest_runtime.cli.init" in modules


def test_a_command_alone_parses_and_helps_as_in_the_whole_parser() -> None:
    """`run ...` builds only run's parser: its help, usage and defaults are the whole
    parser's."""
    import argparse

    from manifest_runtime.cli import COMMANDS, build_parser

    def sub(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        found: argparse.ArgumentParser = action.choices[name]
        return found

    whole = build_parser()
    for name in COMMANDS:
        alone = build_parser(name)
        assert sub(alone, name).format_help() == sub(whole, name).format_help(), name
        assert sub(alone, name).format_usage() == sub(whole, name).format_usage(), name
    args = ["run", AT, "--input", "x.jsonl", "--dry-run"]
    assert vars(build_parser("run").parse_args(args)) == vars(whole.parse_args(args))
