"""The layering of the core: evaluation needs no command registry, and the registry a manifest
was compiled with is the one its commands run with."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from manifest_runtime.commands import COMMANDS
from manifest_runtime.compile import Scope, compile_value
from manifest_runtime.model import Command
from manifest_runtime.runtime import EvalContext, evaluate
from manifest_runtime.source import SourceMap

PACKAGE = Path(__file__).resolve().parents[2] / "manifest_runtime"


def test_importing_the_runtime_imports_no_command_module() -> None:
    code = (
        "import sys, pkgutil, importlib, manifest_runtime.runtime as r\n"
        "for m in pkgutil.iter_modules(r.__path__): importlib.import_module(r.__name__ + '.' "
        "+ m.name)\n"
        "print(sorted(n for n in sys.modules if n.startswith('manifest_runtime.commands')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


LAYERS = ("commands", "compile", "runtime")


def _layer(module: str) -> str | None:
    head = module.split(".", 1)[0]
    return head if head in LAYERS else None


def _resolve(file: Path, node: ast.ImportFrom) -> str:
    """The imported module as a dotted name relative to manifest_runtime."""
    if not node.level:
        return (node.module or "").removeprefix("manifest_runtime").lstrip(".")
    parts = list(file.relative_to(PACKAGE).parts[:-1])
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *((node.module or "").split(".") if node.module else [])])


def _edges(file: Path, *, at_import_time: bool) -> set[str]:
    """Layers a file imports: at import time (module-level statements, not under
    `if TYPE_CHECKING:`), or anywhere outside TYPE_CHECKING blocks (function bodies too)."""
    tree = ast.parse(file.read_text())
    checking = {id(n) for top in ast.walk(tree) if isinstance(top, ast.If)
                and getattr(top.test, "id", "") == "TYPE_CHECKING"
                for b in top.body for n in ast.walk(b)}
    nodes = tree.body if at_import_time else list(ast.walk(tree))
    return {layer for n in nodes if isinstance(n, ast.ImportFrom) and id(n) not in checking
            if (layer := _layer(_resolve(file, n))) is not None}


def _graph(*, at_import_time: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {layer: set() for layer in LAYERS}
    for layer in LAYERS:
        for file in (PACKAGE / layer).rglob("*.py"):
            graph[layer] |= _edges(file, at_import_time=at_import_time) - {layer}
    return graph


def test_the_runtime_imports_no_command_module_even_inside_functions() -> None:
    assert "commands" not in _graph(at_import_time=False)["runtime"]


def test_no_import_circle_between_commands_compile_and_runtime() -> None:
    graph = _graph(at_import_time=True)
    # commands build on runtime (run_command, errors) at import time, and on compile
    # (Compiler, Scope) for their types only; the scopes both share are expressions/nodes.py's
    # (start-up: a compiled manifest runs without loading the compiler)
    assert graph == {"commands": {"runtime"}, "compile": set(), "runtime": set()}


def test_the_registry_given_to_the_compiler_is_the_one_commands_run_with() -> None:
    def shout(node: Any, value: Any, ctx: Any) -> Any:
        return f"{value}!"

    registry = {**COMMANDS, "!jq": replace(COMMANDS["!jq"], run=shout)}
    node, diagnostics = compile_value({"!pipe": [{"!jq": "."}]}, ("v",), Scope(),
                                      SourceMap("t.yaml"), commands=registry)
    assert not diagnostics
    assert evaluate(node, "hi", EvalContext.create()) == "hi!"
    default, _ = compile_value({"!jq": "."}, ("v",), Scope(), SourceMap("t.yaml"))
    assert evaluate(default, "hi", EvalContext.create()) == "hi"


def test_a_command_missing_from_the_given_registry_is_unknown() -> None:
    registry = {name: spec for name, spec in COMMANDS.items() if name != "!sha"}
    node, diagnostics = compile_value({"!sha": "x"}, ("v",), Scope(), SourceMap("t.yaml"),
                                      commands=registry)
    assert [d.code for d in diagnostics] == ["unknown-command"]
    assert not isinstance(node, Command)


def test_no_module_outside_the_cli_imports_the_cli() -> None:
    """The engines take typed arguments and never reach into cli/ (argparse, printing): only
    cli/ itself and the `python -m manifest_runtime` entry point import it, even inside a
    function."""
    entry = {PACKAGE / "__main__.py"}
    offenders = sorted(
        f"{file.relative_to(PACKAGE)} imports {module}"
        for file in PACKAGE.rglob("*.py")
        if "cli" not in file.relative_to(PACKAGE).parts[:1] and file not in entry
        for module in _imports(file)
        if module == "cli" or module.startswith("cli."))
    assert offenders == []


def _imports(file: Path) -> set[str]:
    """Every module a file imports (relative to manifest_runtime), anywhere in it; `from . import
    x` counts as importing `x`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.removeprefix("manifest_runtime").lstrip(".") for a in node.names
                      if a.name.split(".")[0] == "manifest_runtime"}
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(
                ".")[0] == "manifest_runtime"):
            base = _resolve(file, node)
            found.add(base)
            found |= {f"{base}.{a.name}".lstrip(".") for a in node.names}
    return found
