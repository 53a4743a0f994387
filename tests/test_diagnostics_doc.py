"""docs/diagnostics.md lists every diagnostic code the code can emit, names the modules that
emit each one, and what it says about where each validate-time code is tested holds."""

from __future__ import annotations

import ast
import re
from fnmatch import fnmatch
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs/diagnostics.md").read_text()
CODE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
# calls whose string arguments include a diagnostic code (any call's `code=` counts too)
MAKERS = {"Diagnostic", "fail", "_fail", "report", "bad_ref", "_load_error",
          "TemplateSyntaxError"}


def _sections() -> dict[str, set[str]]:
    """Codes in the first column of each `## section`'s table."""
    out: dict[str, set[str]] = {}
    section = ""
    for line in DOC.splitlines():
        if line.startswith("## "):
            section = line[3:].split(" (")[0].strip()
        elif line.startswith("| `"):
            out.setdefault(section, set()).update(re.findall(r"`([a-z0-9-]+)`",
                                                             line.split("|")[1]))
    return out


def _rows() -> list[tuple[list[str], list[str]]]:
    """(codes, modules named in the "emitted by" column) of every table row."""
    rows = []
    for line in DOC.splitlines():
        if line.startswith("| `"):
            cells = line.split("|")
            rows.append((re.findall(r"`([a-z0-9-]+)`", cells[1]),
                         re.findall(r"`([a-z_/*.]+\.py)`", cells[2])))
    return rows


def _emitters() -> dict[str, set[str]]:
    """Code -> every module emitting it (relative to manifest_runtime/)."""
    found: dict[str, set[str]] = {}
    for file in sorted((ROOT / "manifest_runtime").rglob("*.py")):
        module = str(file.relative_to(ROOT / "manifest_runtime"))
        for code in _codes_in(file):
            found.setdefault(code, set()).add(module)
    return found


def _codes_in(file: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        args = [k.value for k in node.keywords if k.arg == "code"]
        if name in MAKERS:
            args += node.args
        for arg in args:
            for value in (arg.body, arg.orelse) if isinstance(arg, ast.IfExp) else (arg,):
                if isinstance(value, ast.Constant) and isinstance(value.value, str) \
                        and CODE.match(value.value):
                    out.add(value.value)
    return out


def _emitted() -> dict[str, str]:
    """Code -> a file emitting it, from the calls that build diagnostics."""
    return {code: f"manifest_runtime/{sorted(modules)[0]}"
            for code, modules in _emitters().items()}


def test_every_emitted_code_is_documented() -> None:
    documented = set().union(*_sections().values()) | set(
        re.findall(r"`([a-z0-9-]+)`", DOC.split("Internal codes", 1)[1]))
    missing = {code: file for code, file in _emitted().items() if code not in documented}
    assert missing == {}, f"add these codes to docs/diagnostics.md: {missing}"


def test_the_scan_finds_codes_of_every_kind() -> None:
    emitted = _emitted()
    for code in ("load", "syntax", "unknown-key", "custom-data-reference", "http-status",
                 "contact-email", "auth-missing", "not-compiled"):
        assert code in emitted, code


def test_validate_time_codes_have_an_invalid_manifest() -> None:
    sections = _sections()
    validate_time = set().union(*(sections[s] for s in
                                  ("Structure", "Commands", "Expansions `${...}`", "Semantics")))
    expected = yaml.safe_load((ROOT / "tests/validate/expected.yaml").read_text())
    cases = {want["code"] for want in expected.values()}
    assert validate_time - cases == {"http-output"}  # a note on valid manifests (see the doc)
    assert cases <= validate_time


def test_the_emitted_by_column_names_every_emitting_module_and_only_those() -> None:
    emitters = _emitters()
    wrong = {}
    for codes, named in _rows():
        actual = set().union(*(emitters.get(code, set()) for code in codes))
        unnamed = {m for m in actual if not any(fnmatch(m, pattern) for pattern in named)}
        stale = {p for p in named if not any(fnmatch(m, p) for m in actual)}
        if not named or unnamed or stale:
            wrong[", ".join(codes)] = {"not named": sorted(unnamed), "emit nothing": sorted(stale)}
    assert wrong == {}
