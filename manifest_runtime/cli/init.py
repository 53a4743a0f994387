"""`manifest-runtime init NAME [--dir D] [--kind K] [--format yaml|json]`: write a new
manifest with its answers, sample input, test cases, sample cassette and README. On a terminal
it asks for what was not given (questionary); otherwise it takes the defaults."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..scaffold import Answers
from .output import print_json, wants_json


def add_parser(sub: Any) -> None:
    from ..scaffold import FORMATS, KINDS

    p = sub.add_parser(
        "init",
        help="start a new manifest: manifest, answers, sample input, test cases, README",
        description="Write a commented manifest that validates, with an answers file, sample "
        "input, test cases (tests.yaml), sample HTTP answers (cassette.yaml) and a README, "
        "so that validate, test, setup and run work at once, offline. On a terminal, asks "
        "for the kind, format, brand and API URL not given as options.",
    )
    p.add_argument("name", metavar="NAME", help="a short name, e.g. acme-leads (a slug)")
    p.add_argument("--dir", metavar="D", help="folder to write into (default: NAME)")
    p.add_argument("--kind", choices=KINDS, help="what the workflow does (default "
                   "inbound-webhook)")
    p.add_argument("--format", dest="manifest_format", choices=FORMATS,
                   help="manifest.yaml (default) or manifest.json (for init, --format is the "
                   "manifest's format; --json prints the summary as JSON)")
    p.add_argument("--brand", help="the app's display name (default: from NAME)")
    p.add_argument("--base-url", help="the API's base URL (default https://api.example.com/v1)")
    p.add_argument("--no-input", action="store_true", help="never ask, take the defaults")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.add_argument("--json", dest="format", action="store_const", const="json",
                   default="text", help="print the files written as one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..scaffold import files, slug

    name = slug(args.name)
    if not name:
        raise UsageError(f"NAME {args.name!r} has no letters or digits; e.g. acme-leads")
    io = None if args.no_input or wants_json(args) else terminal_io()
    answers = Answers(name=name, kind=args.kind or "inbound-webhook",
                      brand=args.brand or "",
                      base_url=args.base_url or "https://api.example.com/v1")
    fmt = args.manifest_format or "yaml"
    if io is not None:
        given = Given(args.kind is not None, args.manifest_format is not None,
                      args.brand is not None, args.base_url is not None)
        answers, fmt = ask(answers, given, fmt, io)
    _check_url(answers.base_url)
    folder = args.dir or name
    written = files(answers, "json" if fmt == "json" else "yaml")
    existing = [n for n in written if os.path.exists(os.path.join(folder, n))]
    if existing and not args.force:
        raise UsageError(f"{folder}/{existing[0]} exists already; nothing written (choose "
                         "another --dir, or --force to overwrite)")
    os.makedirs(folder, exist_ok=True)
    for file_name, text in written.items():
        with open(os.path.join(folder, file_name), "w", encoding="utf-8") as f:
            f.write(text)
    paths = [os.path.join(folder, n) for n in written]
    manifest = paths[0]
    if wants_json(args):
        print_json({"ok": True, "dir": folder, "kind": answers.kind, "files": paths})
        return 0
    if io is None and not args.no_input and None in (args.kind, args.manifest_format):
        print("(no terminal to ask on: took the defaults; choose with --kind, --format, "
              "--brand, --base-url)", file=sys.stderr)
    print(f"wrote {answers.kind} manifest {manifest} with " + ", ".join(
        n for n in written if not n.startswith("manifest.")))
    print(f"next: cd {folder} && manifest-runtime validate {paths[0].rsplit('/', 1)[-1]} "
          "&& manifest-runtime test " + paths[0].rsplit("/", 1)[-1])
    print(f"      (the README in {folder} has the setup and run commands)")
    return 0


def _check_url(url: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"--base-url {url!r}: expected an http(s):// URL")


def terminal_io() -> dict[str, Any] | None:
    """prompt_toolkit's input/output when on a terminal, else None (tests replace this)."""
    return {} if sys.stdin.isatty() and sys.stdout.isatty() else None


def ask(a: Answers, given: Given, fmt: str, io: dict[str, Any]) -> tuple[Answers, str]:
    """Ask what the options did not give; Ctrl-C or Ctrl-D stops (exit 130)."""
    from dataclasses import replace

    import questionary

    from ..scaffold import FORMATS, KIND_HELP, KINDS

    def asked(question: Any) -> Any:
        try:
            return question.unsafe_ask()
        except EOFError:
            raise KeyboardInterrupt from None

    if not given.kind:
        a = replace(a, kind=asked(questionary.select(
            "What does the workflow do?", choices=[
                questionary.Choice(f"{k}: {KIND_HELP[k]}", value=k) for k in KINDS], **io)))
    if not given.format:
        fmt = asked(questionary.select("Manifest format?", choices=list(FORMATS), **io))
    if not given.brand:
        a = replace(a, brand=asked(questionary.text("The app's name?", default=a.title,
                                                    **io)))
    if not given.base_url:
        a = replace(a, base_url=asked(questionary.text(
            "The API's base URL?", default=a.base_url,
            validate=lambda t: t.startswith(("https://", "http://")) or "an http(s):// URL",
            **io)))
    return a, fmt


@dataclass(frozen=True)
class Given:
    """Which answers came as options (those are not asked)."""

    kind: bool
    format: bool
    brand: bool
    base_url: bool
