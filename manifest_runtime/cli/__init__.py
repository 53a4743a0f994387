"""The command line: the only place that prints, reads stdin or exits.

Each subcommand lives in its own module with `add_parser(subparsers)` and `run(args) -> int`;
`COMMANDS` lists them; a command's module is imported only when needed (start-up: `run`
loads neither `serve`'s nor `init`'s imports). Exit codes: 0 success, 1 invalid manifest /
failed records, 2 usage error, 130 interrupted, 141 output pipe closed early. A user error
never shows a Python traceback.
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import sys
from collections.abc import Sequence
from importlib import import_module
from types import ModuleType
from typing import NoReturn

from ..errors import ManifestRuntimeError, UsageError
from ..store import StateUnavailable, StoreError
from .jq_engine import apply_jq_engine
from .output import diagnostic_error, emit_error, state_error, usage_error

# Each command's module, in the order of `--help`. A command's module (and what it imports)
# loads only when that command runs or the whole parser is built (`--help`, usage errors).
COMMANDS: dict[str, str] = {
    "init": "init", "validate": "validate", "eval": "eval", "test": "testcases",
    "graph": "graph", "setup": "setup", "run": "run", "poll": "poll", "serve": "serve",
    "sandbox": "sandbox", "state": "state", "studio": "studio",
}


def command_module(name: str) -> ModuleType:
    """The module of the command `name` (a key of COMMANDS)."""
    return import_module(f".{COMMANDS[name]}", __name__)


EPILOG = """examples (offline, on the bundled ActiveTrail example):
  manifest-runtime validate examples/*/manifest.*
  manifest-runtime setup examples/activetrail-contacts/manifest.yaml \\
      --answers examples/activetrail-contacts/answers.yaml \\
      --replay examples/activetrail-contacts/cassette.yaml
  manifest-runtime run examples/activetrail-contacts/manifest.yaml \\
      --input examples/activetrail-contacts/payloads.jsonl
  manifest-runtime sandbox contacts
  manifest-runtime eval examples/activetrail-contacts/manifest.yaml \\
      /workflows/0/setup/connect/describe_connection \\
      --replay examples/activetrail-contacts/cassette.yaml --trace

start your own: manifest-runtime init my-app (then docs/tutorial.md)
each command has --help; docs/ has the details.
exit codes: 0 success, 1 invalid manifest or failed records, 2 usage error,
130/143 stopped by SIGINT/SIGTERM (run, poll, serve)"""


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error under `--format json` is a JSON object on stdout
    (the subcommand's usage still goes to stderr)."""

    json_errors = False  # set by main() from the command line it parses

    def error(self, message: str) -> NoReturn:
        if _Parser.json_errors:
            from .output import print_json, usage_error

            self.print_usage(sys.stderr)
            print_json(usage_error(message, self.prog.split(" ", 1)[-1]))
            self.exit(2)
        super().error(message)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with every command, or only `command`'s (what parsing that
    command's arguments needs; the parsers are the same, so are their messages)."""
    parser = _Parser(
        prog="manifest-runtime",
        description="Validate, set up and run ActiveCampaign App Studio manifests locally.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS if command is None else (command,):
        command_module(name).add_parser(sub)
    from .helptext import decorate

    for name, subparser in sub.choices.items():
        decorate(name, subparser)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The command when `argv` starts with a known one (nothing before it: no -h or
    --version to act on first), so only its parser is needed; None otherwise."""
    return argv[0] if argv and argv[0] in COMMANDS else None


class _VersionAction(argparse.Action):
    """--version, looked up only when asked (importlib.metadata costs ~20 ms at start-up)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("manifest-runtime")
    except PackageNotFoundError:
        return "0+unknown"


def _unknown_command(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The message for a mistyped subcommand (`vaildate`), with a did-you-mean; None when
    the first word is a subcommand or there is none (argparse explains the rest)."""
    from ..errors import choices_hint

    word = next((a for a in argv if not a.startswith("-")), None)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if word is None or word in sub.choices:
        return None
    return f"unknown command {word!r}; {choices_hint(word, sub.choices, 'commands')}"


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # never a UnicodeEncodeError while reporting
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    argv = list(sys.argv[1:] if argv is None else argv)
    _Parser.json_errors = _asks_json(argv)
    parser = build_parser(_command_word(argv))
    unknown = _unknown_command(parser, argv)
    if unknown is not None:
        parser.print_usage(sys.stderr)
        print(f"manifest-runtime: error: {unknown}", file=sys.stderr)
        return 2
    args, extras = parser.parse_known_args(argv)
    if extras:  # reported by the subcommand, with its own usage, not the top-level one
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extras)}")
    apply_jq_engine(args)
    try:
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        emit_error(args, usage_error(str(exc), args.command),
                   f"manifest-runtime: error: {exc}")
        return 2
    except ManifestRuntimeError as exc:
        from ..report import render_one, use_color

        emit_error(args, diagnostic_error(exc.diagnostic, args.command, exc.exit_code),
                   render_one(exc.diagnostic, color=use_color(sys.stderr)))
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except StateUnavailable as exc:  # e.g. the PostgreSQL server is unreachable
        emit_error(args, state_error(str(exc), args.command), f"manifest-runtime: error: {exc}")
        return 1
    except sqlite3.Error as exc:  # the state: locked for too long, full, damaged, server gone
        what = "state database" if isinstance(exc, StoreError) else "state file"
        print(f"manifest-runtime: error: the {what} failed: {exc}; the records done "
              "before are recorded: run the same command again once it is fixed",
              file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (`| head`): the output is cut, so never report success;
        # 141 = 128 + SIGPIPE, as shells do. Silence the flush at exit as well.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _asks_json(argv: Sequence[str]) -> bool:
    if "init" in argv:  # init's --format is the manifest's; its --json the summary's
        return "--json" in argv
    return "--format=json" in argv or any(
        a == "--format" and b == "json" for a, b in itertools.pairwise(argv))


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[command]
            return found
    return parser
