"""The engines are libraries (issue 16): the CLI parses and prints; pipeline/ and the other
engine packages import neither argparse nor the cli package, and never call print(), not
even inside functions (they take typed options and report through callbacks)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "manifest_runtime"
ENGINES = ("pipeline", "runtime", "commands", "compile", "expressions", "activecampaign",
           "http", "intake", "setup", "jqfast", "store")
MODULES = ("state.py", "workflows.py", "model.py", "errors.py")


def engine_files() -> list[Path]:
    files = [f for d in ENGINES for f in sorted((PACKAGE / d).rglob("*.py"))]
    return files + [PACKAGE / m for m in MODULES]


def imported(file: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Dotted names a statement imports, relative imports resolved from the package root."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not node.level:
        return [node.module or ""]
    parts = ["manifest_runtime", *file.relative_to(PACKAGE).parts[:-1]]
    parts = parts[: len(parts) - (node.level - 1)]
    base = ".".join([*parts, *([node.module] if node.module else [])])
    return [base] if node.module else [f"{base}.{a.name}" for a in node.names]


def offences(file: Path, text: str | None = None) -> list[str]:
    """What `file` (its text, or `text` as if it were that file) does that an engine must
    not."""
    found = []
    source = file.read_text(encoding="utf-8") if text is None else text
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in imported(file, node):
                if name.split(".")[0] == "argparse" or \
                        name == "manifest_runtime.cli" or name.startswith("manifest_runtime.cli."):
                    found.append(f"line {node.lineno}: imports {name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "print":
            found.append(f"line {node.lineno}: calls print()")
    return found


@pytest.mark.parametrize("file", engine_files(), ids=lambda f: str(f.relative_to(PACKAGE)))
def test_an_engine_module_neither_parses_arguments_nor_prints(file: Path) -> None:
    assert offences(file) == []


def test_the_check_sees_what_it_forbids() -> None:
    text = ("import argparse\nfrom ..cli.session import open_pipeline\nfrom .. import cli\n"
            "def f():\n    print(1)\n    from .batch import BatchRun\n")
    assert offences(PACKAGE / "pipeline" / "x.py", text) == [
        "line 1: imports argparse", "line 2: imports manifest_runtime.cli.session",
        "line 3: imports manifest_runtime.cli", "line 5: calls print()"]


def test_run_and_poll_leave_their_arguments_as_parsed(tmp_path: Path) -> None:
    """The CLI builds frozen options from the arguments (cli/session.py pipeline_options);
    nothing writes into the argparse Namespace."""
    import copy
    import json

    from test_run_cli import AT, AT_SETUP, seed

    from manifest_runtime.cli import build_parser

    seed(AT_SETUP)
    payloads = tmp_path / "in.jsonl"
    payloads.write_text(json.dumps({"member": {"email": "a@example.com"}}) + "\n")
    args = build_parser().parse_args(["run", AT, "--input", str(payloads), "--quiet"])
    before = copy.deepcopy(vars(args))
    assert args.handler(args) == 0
    assert vars(args) == before
