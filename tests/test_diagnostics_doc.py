"""docs/diagnostics.md lists every diagnostic code the code can emit, and what it says about
where each validate-time code is tested holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs/diagnostics.md").read_text()
CODE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
# calls whose string arguments include a diagnostic code (any call's `code=` counts too)
MAKERS = {"Diagnostic", "fail", "_fail", "report", "bad_ref", "_load_error"}


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


def _emitted() -> dict[str, str]:
    """Code -> a file emitting it, from the calls that build diagnostics."""
    found: dict[str, str] = {}
    for file in sorted((ROOT / "manifest_runtime").rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            args = [k.value for k in node.keywords if k.arg == "code"]
            if name in MAKERS:
                args += node.args
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                        and CODE.match(arg.value):
                    found.setdefault(arg.value, str(file.relative_to(ROOT)))
    return found


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
