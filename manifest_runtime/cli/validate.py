"""`manifest-runtime validate MANIFEST... [--format text|json] [--strict]`.

A file that cannot be read (missing, a directory, the wrong extension) is a `load` diagnostic of
that file: it makes the run fail (exit 1) but the other files are still validated."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import Diagnostic, ManifestLoadError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check manifests: schema, commands, expressions, jq programs, references",
        description="Report every schema, reference, expression and jq error of each manifest "
        "at once, each with file:line:col, a JSON pointer and a hint.",
    )
    p.add_argument("manifests", nargs="+", metavar="MANIFEST", help=".json, .yaml or .yml file")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text for people (default), json for tools")
    p.add_argument("--strict", action="store_true", help="warnings make the manifest invalid")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--verbose", "-v", action="store_true",
                       help="also report notes (severity info), e.g. each !http step's output "
                       "shape (http-output)")
    shown.add_argument("--quiet", "-q", action="store_true",
                       help="hide notes (the default; kept for scripts)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..compile import load_and_compile
    from ..report import render_json, render_text, summary, use_color

    color = args.format == "text" and use_color(sys.stdout)
    everything: list[Diagnostic] = []
    all_valid = True
    for filename in args.manifests:
        try:
            compiled = load_and_compile(filename, notes=args.verbose, keep=False)
            diagnostics = list(compiled.diagnostics)
        except ManifestLoadError as exc:
            diagnostics = [exc.diagnostic]
        valid = not any(
            d.severity == "error" or (args.strict and d.severity == "warning")
            for d in diagnostics
        )
        all_valid = all_valid and valid
        everything.extend(diagnostics)
        if args.format == "text":
            sys.stdout.write(render_text(diagnostics, color=color))
            print(summary(filename, diagnostics, valid, notes=args.verbose, color=color))
    if args.format == "json":
        print(render_json(everything, all_valid))
    return 0 if all_valid else 1

