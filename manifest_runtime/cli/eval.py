"""`manifest-runtime eval MANIFEST POINTER [--input JSON|@file] [--custom-data ...] [--trace]`:
run one command (or value) of a manifest and print its output as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ..activecampaign.ignored import collecting, describe_ignored
from ..errors import EvaluationError, UsageError
from ..paths import to_pointer
from ..pointer_context import auth_name_for, custom_data_arg, pipeline_role
from .ac_options import account
from .http_options import add_http_options, http_service
from .jq_engine import add_jq_engine_option
from .output import add_format_option, diagnostic_error, print_json, wants_json
from .session import (
    DEFAULT_WEBHOOK_URL,
    add_state_option,
    compile_or_report,
    located,
    make_env,
    open_state,
    report_error,
)

if TYPE_CHECKING:
    from ..model import CompiledManifest
    from ..paths import Path


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="run one command of a manifest and print its output",
        description="Run the command (or value) at a JSON pointer, e.g. "
        "/workflows/0/setup/connect/describe_connection, with the given input and custom "
        "data, and print its output as JSON. !http requests go to the real hosts with the "
        "workflow's auth (credentials from --credentials or MANIFEST_RUNTIME_* variables), "
        "unless --remap points them elsewhere or --replay answers them from a cassette.",
    )
    p.add_argument("manifest", metavar="MANIFEST", help=".json, .yaml or .yml file")
    p.add_argument("pointer", metavar="POINTER", nargs="?",
                   help="pointer to the command, by index or by name: "
                   "/workflows/0/data_pipeline/source, /workflows/NAME/setup/select/"
                   "form_fields/ID/options, /data_intake/NAME/create (see --list)")
    p.add_argument("--list", action="store_true",
                   help="print every evaluable pointer (by index and by name) with its "
                   "command, and exit")
    add_format_option(p, "the output as {\"ok\": true, \"output\": ...} (--list: the "
                      "pointers)")
    p.add_argument("--input", metavar="JSON|@FILE", help="the command's input (default null)")
    p.add_argument("--custom-data", metavar="JSON|@FILE",
                   help='form answers: {"field": "value"} or {"field": {"value": .., '
                   '"display": ..}}')
    p.add_argument("--contact", metavar="JSON|@FILE",
                   help="the contact being processed (!resource ActiveCampaignContact)")
    p.add_argument("--polling-state", metavar="JSON|@FILE", help="${polling_state}")
    p.add_argument("--resource", metavar="JSON|@FILE",
                   help='${resource}: the selection, {"id": ..., "display": ...} (what '
                   "describe_selection outputs)")
    p.add_argument("--subdomain",
                   help="${subdomain} (default: the credentials' subdomain)")
    p.add_argument("--webhook-url", default=DEFAULT_WEBHOOK_URL,
                   help=f"${{webhook.url}} (default {DEFAULT_WEBHOOK_URL})")
    add_state_option(p, ": !save data (${data.*}) and the sandbox account !resource writes to")
    p.add_argument("--all", action="store_true",
                   help="allow a POINTER to an object or array holding several commands "
                   "(all of them run, in order, each with the same input)")
    p.add_argument("--trace", action="store_true",
                   help="print each step's path, input, expanded arguments and output, and "
                   "every HTTP attempt, to stderr")
    add_jq_engine_option(p)
    p.add_argument("--http-output", choices=("auto", "wrapped", "body"), default="auto",
                   help="!http output shape: as validate decided (auto), or force one")
    add_http_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..paths import from_pointer
    from ..pointer_names import resolve
    from ..runtime.run import run_at

    if args.list:
        if args.pointer is not None:
            raise UsageError("--list takes no POINTER")
        return _list(args)
    if args.pointer is None:
        raise UsageError("give a POINTER (or --list to see them all)")
    try:
        path = from_pointer(args.pointer)
    except ValueError as exc:
        raise UsageError(f"malformed pointer: {exc}") from None
    value = _json_arg(args.input, "--input")
    compiled = compile_or_report(args.manifest, json_errors=wants_json(args), command="eval")
    if compiled is None:
        return 1
    path = resolve(compiled.data, path)
    _one_command(compiled, path, args.all)
    state = open_state(args.state)  # first: a bad --state must not leave a --record cassette
    try:
        http = http_service(args, compiled, auth_name_for(compiled, path), trace=args.trace)
    except BaseException:
        state.close()
        raise
    redactor = http.redactor
    try:
        ctx = _context(args, compiled, path, state, http)
        with collecting() as ignored:
            output = run_at(compiled, path, value, ctx)
    except EvaluationError as exc:
        if wants_json(args):
            print_json(redactor.value(diagnostic_error(
                located(exc.diagnostic, compiled), "eval")))
        else:
            report_error(exc.diagnostic, compiled, redactor.text)
        return 1
    finally:
        state.close()
        http.close()
    for warning in describe_ignored(ignored):  # keys the target could not use
        print(f"warning: {warning}", file=sys.stderr)
    if wants_json(args):
        print_json({"ok": True, "pointer": to_pointer(path), "output": redactor.value(output)})
    else:
        print(json.dumps(redactor.value(output), indent=2, ensure_ascii=False))
    return 0


def _list(args: argparse.Namespace) -> int:
    """Every command eval can run, by index and by name, inner steps indented."""
    from ..pointer_names import evaluable

    compiled = compile_or_report(args.manifest, json_errors=wants_json(args), command="eval")
    if compiled is None:
        return 1
    found = evaluable(compiled)
    if wants_json(args):
        print_json({"ok": True, "manifest": args.manifest,
                    "commands": [e.as_json() for e in found]})
        return 0
    for e in found:
        pad = "  " * e.depth
        shown = e.by_name if e.by_name == e.pointer else f"{e.by_name}  ({e.pointer})"
        print(f"{pad}{e.command:<10} {shown}")
    print(f"{len(found)} commands; run one: manifest-runtime eval {args.manifest} POINTER",
          file=sys.stderr)
    return 0


def _one_command(compiled: CompiledManifest, path: Path, run_all: bool) -> None:
    """`eval` runs one command: a pointer to a container of several (a whole workflow would
    register webhooks and send messages) needs --all."""
    from ..model import Arr, Command, Obj
    from ..paths import to_pointer
    from ..runtime.locate import ROOT_SHOWN

    def outer(node: object) -> list[Command]:
        if isinstance(node, Command):
            return [node]
        if isinstance(node, Obj):
            return [c for child in node.items.values() for c in outer(child)]
        if isinstance(node, Arr):
            return [c for child in node.items for c in outer(child)]
        return []

    commands = outer(compiled.node_at(path))
    if len(commands) > 1 and not run_all:
        listed = ", ".join(to_pointer(c.path) for c in commands[:5])
        more = f" and {len(commands) - 5} more" if len(commands) > 5 else ""
        where = to_pointer(path) or ROOT_SHOWN
        raise UsageError(f"{where} holds {len(commands)} commands ({listed}"
                         f"{more}); point at one of them, or pass --all to run them all")


def _json_arg(raw: str | None, option: str) -> Any:
    if raw is None:
        return None
    text = raw
    if raw.startswith("@"):
        try:
            with open(raw[1:], encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise UsageError(f"{option}: cannot read {raw[1:]}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{option}: not valid JSON ({exc})") from None


def _context(args: argparse.Namespace, compiled: CompiledManifest, path: Path,
             state: Any, http: Any) -> Any:
    from ..expressions.nodes import Missing
    from ..runtime.context import EvalContext

    contact = _json_arg(args.contact, "--contact")
    polling = _json_arg(args.polling_state, "--polling-state")
    resource = _json_arg(args.resource, "--resource")
    env = make_env(args, compiled, state, http, ac=account(args, state, http, contact),
                   role=pipeline_role(path))
    return EvalContext.create(
        custom_data=custom_data_arg(_json_arg(args.custom_data, "--custom-data"),
                                    compiled.data, path),
        webhook={"url": args.webhook_url},
        polling_state=Missing if polling is None and args.polling_state is None else polling,
        subdomain=http.subdomain,
        resource=Missing if args.resource is None else resource,
        env=env,
    )




