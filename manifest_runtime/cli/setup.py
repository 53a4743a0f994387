"""`manifest-runtime setup MANIFEST [--workflow NAME] [--answers FILE] [--credentials FILE]`:
walk a workflow's setup steps (connect → select → map → schedule) as the App Studio UI would,
with the options the manifest's own commands fetch, and save the choices in the state file
for `run` and `poll`. Headless with --answers; otherwise asks on the terminal.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..errors import ManifestRuntimeError, UsageError
from .ac_options import account
from .http_options import add_http_options, cassette_options, http_service
from .output import add_format_option, diagnostic_error, print_json, wants_json
from .session import (
    add_state_option,
    compile_or_report,
    located,
    make_env,
    open_state,
    report_error,
)

if TYPE_CHECKING:
    from ..http.client import HttpClient
    from ..http.credentials import Credentials
    from ..http.redact import Redactor
    from ..model import CompiledManifest
    from ..setup import SetupFlow
    from ..setup.model import Answerer


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "setup",
        help="walk a workflow's setup steps and save the choices for run",
        description="Connect (the credentials are checked against the auth's verify_url), "
        "choose the form fields' values among the options the manifest's commands fetch, map "
        "source fields to target fields and choose the schedule, as the App Studio UI would; "
        "then save it all in the state file, where run and poll read it. Asks on a terminal; "
        "--answers FILE (JSON/YAML: workflow, credentials, custom_data, mapping, schedule; "
        "see docs/setup.md) runs it headless, e.g. in CI.",
    )
    p.add_argument("manifest", metavar="MANIFEST", help=".json, .yaml or .yml file")
    p.add_argument("--workflow", metavar="NAME",
                   help="the workflow to set up (needed when the manifest has several and "
                   "the answers do not name one)")
    p.add_argument("--answers", metavar="FILE",
                   help="answer every question from this JSON/YAML file instead of asking")
    p.add_argument("--save-answers", metavar="FILE",
                   help="write what was answered to FILE as an answers file (also when setup "
                   "is interrupted or fails), to run it again headless with --answers")
    p.add_argument("--save-secrets", action="store_true",
                   help="with --save-answers: keep the secret credentials typed (token, "
                   "password, ...) in the file too (mode 0600); left out by default")
    add_state_option(p, " to save the setup in")
    p.add_argument("--trace", action="store_true",
                   help="print each command's steps and every HTTP attempt to stderr")
    p.add_argument("--http-output", choices=("auto", "wrapped", "body"), default="auto",
                   help="!http output shape: as validate decided (auto), or force one")
    add_format_option(p, "what was saved (credentials never)")
    add_http_options(p)
    p.set_defaults(handler=run)


def terminal_answerer() -> Answerer | None:
    """The terminal answerer when stdin is a terminal (tests replace this function)."""
    if not sys.stdin.isatty():
        return None
    from .setup_prompt import PromptAnswerer

    return PromptAnswerer()


def run(args: argparse.Namespace) -> int:
    from ..http.redact import Redactor
    from ..http.remap import parse_remap
    from ..setup import AnswerError, FileAnswerer

    cassette_options(args)
    if args.save_secrets and not args.save_answers:
        raise UsageError("--save-secrets goes with --save-answers FILE")
    for remap in args.remap:  # bad values are usage errors before any question is asked
        parse_remap(remap)
    answerer: Answerer | None = None
    if args.answers is None:
        answerer = terminal_answerer()
        if answerer is None:
            raise UsageError("setup asks its questions on a terminal, and stdin is not one; "
                             "pass --answers FILE to run it headless (see docs/setup.md)")
    compiled = compile_or_report(args.manifest, json_errors=wants_json(args), command="setup")
    if compiled is None:
        return 1
    redactor = Redactor()
    try:
        if answerer is None:
            answerer = FileAnswerer.load(args.answers)
        return _setup(args, compiled, answerer, redactor)
    except AnswerError as exc:
        d = exc.diagnostic
        if wants_json(args):
            print_json(redactor.value(diagnostic_error(located(d, compiled), "setup",
                                                       exc.exit_code)))
        elif d.file is None:  # a refused terminal answer: there is no file to point at
            sys.stderr.write(redactor.text(
                f"manifest-runtime: setup: error[{d.code}]: {d.message}\n"
                + (f"  hint: {d.hint}\n" if d.hint else "")))
        else:
            report_error(d, compiled, redactor.text)
        return exc.exit_code
    except ManifestRuntimeError as exc:
        if wants_json(args):
            print_json(redactor.value(diagnostic_error(located(exc.diagnostic, compiled),
                                                       "setup", exc.exit_code)))
        else:
            report_error(exc.diagnostic, compiled, redactor.text)
        return exc.exit_code


def _setup(args: argparse.Namespace, compiled: CompiledManifest, answerer: Answerer,
           redactor: Redactor) -> int:
    from ..http.credentials import load_credentials
    from ..setup import SetupFlow, choose_workflow, summary_lines
    from ..setup.saving import save_outcome

    index = choose_workflow(compiled, args.workflow, answerer)
    workflow = compiled.data["workflows"][index]
    auth_name = workflow.get("auth") if isinstance(workflow.get("auth"), str) else None
    base = load_credentials(auth_name, args.credentials)  # the file, then the environment
    redactor.add(*base.secret_values())
    redactor.add_basic(base.username, base.password)
    state = open_state(args.state)

    opened = 0

    def open_http(credentials: Credentials) -> HttpClient:
        # the answers' credentials over --credentials and the environment: complete already;
        # a client per credentials try: the first applies --record-mode, the others append
        nonlocal opened
        opened += 1
        return http_service(args, compiled, auth_name, trace=args.trace,
                            credentials=credentials, redactor=redactor,
                            record_mode="append" if opened > 1 else None)

    def warn(message: str) -> None:
        print(redactor.text(f"manifest-runtime: warning: {message}"), file=sys.stderr)

    if hasattr(answerer, "redact"):
        answerer.redact = redactor.text  # errors shown by the terminal prompts
    flow = SetupFlow(compiled, index, answerer, base_credentials=base, open_http=open_http,
                     make_env=lambda http: make_env(args, compiled, state, http,
                                                    ac=account(args, state, http)),
                     replaying=args.replay is not None, warn=warn, redact=redactor.text)
    complete = False
    try:
        outcome = flow.run()
        complete = True
        historical = save_outcome(state, workflow, outcome)  # a new setup imports once more
    finally:
        flow.close()
        state.close()
        if args.save_answers:
            _save_answers(args, flow, complete, redactor)
    lines = summary_lines(outcome, state.path)
    if isinstance(historical, str):
        lines.append(f"  historical import: {historical!r} runs once on the next `manifest-runtime "
                     "poll`")
    if wants_json(args):
        saved = {k: v for k, v in outcome.setup.as_json().items() if k != "credentials"}
        print_json(redactor.value({"ok": True, "state": state.path,
                                   "label": outcome.workflow_label,
                                   "credentials": outcome.verified, **saved}))
        return 0
    print(redactor.text("\n".join(lines)))
    from .serve import update_registration  # a registered webhook follows the new choices

    return update_registration(args, compiled, index)


def _save_answers(args: argparse.Namespace, flow: SetupFlow, complete: bool,
                  redactor: Redactor) -> None:
    """--save-answers: what was answered, also after Ctrl-C or an error (then a comment says
    it stops early). A file that cannot be written is reported, not raised (the setup's own
    outcome is what counts)."""
    from ..setup.answers import dump_answers, write_answers

    text = dump_answers(flow.name, flow.answered, secrets=args.save_secrets,
                        complete=complete)
    try:
        write_answers(args.save_answers, text, private=args.save_secrets)
    except OSError as exc:
        print(f"manifest-runtime: warning: --save-answers {args.save_answers}: cannot write "
              f"it: {exc.strerror or exc}", file=sys.stderr)
        return
    print(redactor.text(f"manifest-runtime: answers saved to {args.save_answers}"
                        + ("" if complete else " (setup did not finish)")), file=sys.stderr)
