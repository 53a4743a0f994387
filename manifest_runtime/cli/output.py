"""`--format text|json`, the same on every command, and the JSON shapes it prints.

With `--format json` a command prints exactly one JSON document on stdout, whatever happens:
its result, or `{"ok": false, "error": {...}}` (a usage error, a run-time error located in
the manifest, or the manifest's validation errors under "diagnostics"). Text stays for people.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..errors import Diagnostic

FORMATS = ("text", "json")


def add_format_option(p: argparse.ArgumentParser, what: str = "the summary") -> None:
    p.add_argument("--format", choices=FORMATS, default="text",
                   help=f"text for people (default); json: {what} as one JSON object on "
                   "stdout, errors included")


def wants_json(args: argparse.Namespace) -> bool:
    return getattr(args, "format", "text") == "json"


def print_json(value: Any, flush: bool = False) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str), flush=flush)


def usage_error(message: str, command: str | None) -> dict[str, Any]:
    return {"ok": False, "command": command,
            "error": {"code": "usage", "message": message, "exit_code": 2}}


def state_error(message: str, command: str | None) -> dict[str, Any]:
    """The state cannot be opened (store/errors.py StateUnavailable): exit 1."""
    return {"ok": False, "command": command,
            "error": {"code": "state", "message": message, "exit_code": 1}}


def diagnostic_error(d: Diagnostic, command: str | None, exit_code: int = 1
                     ) -> dict[str, Any]:
    return {"ok": False, "command": command, "error": {**d.as_json(), "exit_code": exit_code}}


def invalid_manifest(file: str, diagnostics: Sequence[Diagnostic], command: str | None
                     ) -> dict[str, Any]:
    errors = [d.as_json() for d in diagnostics if d.severity == "error"]
    return {"ok": False, "command": command,
            "error": {"code": "invalid-manifest", "file": file, "exit_code": 1,
                      "message": f"{file}: invalid ({len(errors)} errors); fix them first",
                      "diagnostics": errors}}


def emit_error(args: argparse.Namespace | None, payload: dict[str, Any], text: str) -> None:
    """An error as JSON on stdout (--format json) or as text on stderr."""
    if args is not None and wants_json(args):
        print_json(payload)
    else:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
