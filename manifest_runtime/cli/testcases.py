"""`manifest-runtime test MANIFEST [CASES...] [--update]`: run a manifest's test cases (see
manifest_runtime/cases.py for the case format) and print a pytest-like report."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import time
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .output import add_format_option, print_json, wants_json
from .session import compile_or_report, tracer

if TYPE_CHECKING:
    from ..cases import Case, CaseResult

DEFAULT_NAMES = ("tests.yaml", "tests.yml", "tests.json")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "test",
        help="run a manifest's test cases (pointer, input, expected output)",
        description="Run each case (a command's pointer, its input, custom data and roots) "
        "with the same engine as eval, and compare its output with the case's expect (or "
        "its error code with expect_error). No network: an !http step needs the case's "
        "cassette. Without CASES, runs tests.yaml beside the manifest.",
    )
    p.add_argument("manifest", metavar="MANIFEST", help=".json, .yaml or .yml file")
    p.add_argument("cases", metavar="CASES", nargs="*",
                   help="case files (YAML or JSON); default: tests.yaml beside the manifest")
    p.add_argument("--update", action="store_true",
                   help="write each case's actual output (or error code) into its file as "
                   "the expectation (the file's opening comment is kept, others are not)")
    p.add_argument("-k", metavar="TEXT", dest="select",
                   help="run only the cases whose name contains TEXT")
    p.add_argument("--trace", action="store_true",
                   help="print each step's input, expanded arguments and output to stderr")
    add_format_option(p, "every case's outcome")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..cases import load_cases, run_case, summary_counts

    files = list(args.cases) or [_default_cases(args.manifest)]
    cases: list[Case] = [c for f in files for c in load_cases(f)]
    if args.select:
        cases = [c for c in cases if args.select in c.name]
    compiled = compile_or_report(args.manifest, json_errors=wants_json(args), command="test")
    if compiled is None:
        return 1
    started = time.perf_counter()
    results: list[CaseResult] = []
    for case in cases:
        result = run_case(compiled, case, tracer if args.trace else None)
        results.append(result)
        if not wants_json(args):
            mark = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR"}[result.outcome]
            print(f"{case.id} {mark}")
    seconds = time.perf_counter() - started
    counts = summary_counts(results)
    if args.update:
        written = _update(files, results)
        if wants_json(args):
            print_json({"ok": True, "updated": written, **counts,
                        "cases": [r.as_json() for r in results]})
        else:
            print(f"updated {len(results)} cases in {', '.join(written)}")
        return 0
    ok = counts["failed"] == 0 and counts["error"] == 0
    if wants_json(args):
        print_json({"ok": ok, **counts, "seconds": round(seconds, 3),
                    "cases": [r.as_json() for r in results]})
        return 0 if ok else 1
    bad = [r for r in results if r.outcome != "passed"]
    if bad:
        print("\n" + " FAILURES ".center(70, "="))
        for r in bad:
            print(failure_text(r))
    parts = [f"{counts[k]} {k if k != 'error' else 'errors'}" for k in
             ("passed", "failed", "error") if counts[k] or k == "passed"]
    if not cases:
        parts = ["no cases" + (f" match -k {args.select!r}" if args.select else "")]
    print(f" {', '.join(parts)} in {seconds:.2f}s ".center(70, "="))
    return 0 if ok and cases else 1


def _default_cases(manifest: str) -> str:
    folder = os.path.dirname(manifest)
    for name in DEFAULT_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise UsageError(f"no case file given and no {DEFAULT_NAMES[0]} beside {manifest}; "
                     "give CASES (manifest-runtime init writes a tests.yaml to start from)")


def failure_text(r: CaseResult) -> str:
    """One failed case: where, why, and a unified diff of expected against actual."""
    case = r.case
    where = f"{case.file}:{case.line}" if case.line else case.file
    lines = [f"_____ {case.name} _____".center(70, "_"),
             f"{where}: {case.pointer}", f"  {r.reason}"]
    if r.error is not None and r.error.hint:
        lines.append(f"  hint: {r.error.hint}")
    if r.outcome == "failed" and case.expect_error is None:
        want = json.dumps(case.expect, indent=2, sort_keys=True, ensure_ascii=False)
        got = json.dumps(r.actual, indent=2, sort_keys=True, ensure_ascii=False,
                         default=repr)
        lines.extend(difflib.unified_diff(want.splitlines(), got.splitlines(),
                                          "expect", "actual", lineterm=""))
    lines.append("")
    return "\n".join(lines)


def _update(files: list[str], results: list[CaseResult]) -> list[str]:
    """Rewrite each case file with the actual outcomes (cases not run are kept as they are)."""
    import yaml

    from ..cases import updated

    by_file: dict[str, dict[int, CaseResult]] = {}
    for r in results:
        by_file.setdefault(r.case.file, {})[r.case.index] = r
    written = []
    for path in files:
        if path not in by_file:
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        data = yaml.safe_load(text)
        items = data["cases"] if isinstance(data, dict) else data
        for index, r in by_file[path].items():
            items[index] = updated(items[index], r)
        if path.endswith(".json"):
            out = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        else:
            head = "".join(line + "\n" for line in _opening_comment(text))
            out = head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        with open(path, "w", encoding="utf-8") as f:
            f.write(out)
        written.append(path)
    return written


def _opening_comment(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        out.append(line)
    return out
