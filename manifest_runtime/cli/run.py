"""`manifest-runtime run MANIFEST`: a workflow's data_pipeline over many records.

Inbound workflows read webhook payloads (`--input FILE.jsonl|-`), outbound ones the contacts
an automation would process (`--contacts FILE.jsonl`). Each record goes source -> transform
(the mapping saved by `setup`) -> target and ends delivered or in the dead-letter table of
the state file (and `--dead-letter FILE.jsonl`). Running the same file again resumes: records
already done are skipped (`--restart` runs them all again).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import UsageError
from .http_options import add_http_options, http_service, positive_int
from .session import compile_or_report, make_env, open_state

if TYPE_CHECKING:
    from ..model import CompiledManifest
    from ..pipeline.journal import DeadLetter, Journal
    from ..pipeline.records import Record
    from ..pipeline.runner import Outcome, Pipeline
    from ..state import Setup

DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8787/webhook"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a workflow's data_pipeline over many records",
        description="Run source -> transform -> target for each record: webhook payloads "
        "(--input, inbound workflows) or contacts (--contacts, outbound workflows). Uses the "
        "choices saved by `setup` and delivers into the sandbox ActiveCampaign account of the "
        "state file. Every record ends delivered or dead-lettered; exit 1 when any failed.",
        epilog="examples:\n  manifest-runtime run manifest.yaml --input payloads.jsonl\n"
        "  manifest-runtime run twilio.json --contacts contacts.jsonl --dry-run\n"
        "  cat payloads.jsonl | manifest-runtime run manifest.yaml --input -",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("manifest", metavar="MANIFEST", help=".json, .yaml or .yml file")
    p.add_argument("--workflow", metavar="NAME", help="which workflow (default: the only one)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input", metavar="FILE.jsonl|-",
                        help="inbound: webhook payloads, one JSON value per line (- = stdin)")
    source.add_argument("--contacts", metavar="FILE.jsonl",
                        help="outbound: the contacts to process, one JSON object per line")
    p.add_argument("--dry-run", action="store_true",
                   help="run source and transform only; print each transformed record "
                   "(JSON lines) instead of delivering it")
    p.add_argument("--trace", action="store_true",
                   help="print each step and HTTP attempt to stderr (implies --concurrency 1)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="process at most N records")
    p.add_argument("--concurrency", type=positive_int, default=1, metavar="N",
                   help="records in flight at once (default 1)")
    p.add_argument("--http-output", choices=("auto", "wrapped", "body"), default="auto",
                   help="!http output shape: as validate decided (auto), or force one")
    p.add_argument("--dead-letter", metavar="FILE.jsonl",
                   help="also append each failed record to this file")
    p.add_argument("--restart", action="store_true",
                   help="run every record of the input again, even those done before")
    p.add_argument("--webhook-url", default=DEFAULT_WEBHOOK_URL,
                   help=f"${{webhook.url}} (default {DEFAULT_WEBHOOK_URL})")
    p.add_argument("--state", metavar="PATH",
                   help="the state file (default: $MANIFEST_RUNTIME_STATE or "
                   ".manifest-runtime/state.db)")
    add_http_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline.journal import Journal, run_key
    from ..pipeline.runner import Pipeline

    compiled = compile_or_report(args.manifest)
    if compiled is None:
        return 1
    index, workflow = choose_workflow(compiled, args.workflow)
    inbound = workflow.get("type") == "generic"
    lines, data = _input(args, inbound)
    if args.trace:
        args.concurrency = 1
    state = open_state(args.state)
    try:
        setup = state.load_setup(str(workflow.get("name")))
        _needs_setup(args.manifest, workflow, setup)
        http = http_service(args, compiled, _str(workflow.get("auth")), trace=args.trace,
                            stored=setup.credentials if setup else None,
                            save_stored=_store_rotated(state, setup))
        try:
            env = make_env(args, compiled, state, http, ac=state.sandbox())
            pipeline = Pipeline(compiled, index, setup, env, webhook_url=args.webhook_url,
                                subdomain=http.subdomain, dry_run=args.dry_run)
            journal = Journal(state.db, state.lock)
            key = None if data is None or args.dry_run else run_key(pipeline.name, data)
            if key is not None and args.restart:
                journal.forget(key)
            summary = _execute(args, pipeline, journal, key, lines)
        finally:
            http.close()
    finally:
        state.close()
    return summary.report(args, pipeline.name, state.path)


def choose_workflow(compiled: CompiledManifest, name: str | None) -> tuple[int, dict[str, Any]]:
    workflows = [w for w in compiled.data.get("workflows") or [] if isinstance(w, dict)]
    names = [str(w.get("name")) for w in workflows]
    if name is None:
        if len(workflows) == 1:
            return 0, workflows[0]
        raise UsageError(f"the manifest has {len(workflows)} workflows: pass --workflow NAME "
                         f"({', '.join(names)})")
    if name not in names:
        from ..errors import choices_hint

        raise UsageError(f"no workflow {name!r}; {choices_hint(name, names, 'workflows:')}")
    index = names.index(name)
    return index, workflows[index]


def _needs_setup(manifest: str, workflow: dict[str, Any], setup: Setup | None) -> None:
    raw = workflow.get("setup")
    steps: dict[str, Any] = raw if isinstance(raw, dict) else {}
    asks = isinstance(steps.get("select"), dict) or isinstance(steps.get("map"), dict)
    if asks and setup is None:
        name = workflow.get("name")
        raise UsageError(f"workflow {name!r} has select/map steps and no setup was saved in "
                         f"the state file; run: manifest-runtime setup {manifest} --workflow "
                         f"{name} [--answers FILE]")


def _input(args: argparse.Namespace, inbound: bool) -> tuple[Iterator[str], bytes | None]:
    """The input lines, and the whole file's bytes (None for stdin: no resume)."""
    given, option = (args.input, "--input") if inbound else (args.contacts, "--contacts")
    wrong = args.contacts if inbound else args.input
    kind = "inbound" if inbound else "outbound"
    if wrong is not None:
        raise UsageError(f"this is an {kind} workflow: give its records with {option}, not "
                         f"{'--contacts' if inbound else '--input'}")
    if given is None:
        what = "webhook payloads" if inbound else "contacts to process"
        raise UsageError(f"give the {what} with {option} FILE.jsonl (one JSON per line)")
    if given == "-":
        if not inbound:
            raise UsageError("--contacts takes a file")
        return iter(sys.stdin), None
    try:
        with open(given, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"{option} {given}: cannot read it ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{option} {given}: not UTF-8 (byte {exc.start})") from None
    return iter(text.splitlines()), data


@dataclass
class Summary:
    read: int = 0
    skipped: int = 0
    delivered: int = 0
    failed: int = 0  # records with at least one dead letter
    dead: int = 0  # dead letters (a fanned-out record can have several)
    interrupted: bool = False
    outputs: list[Any] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.read += 1
        self.delivered += outcome.delivered
        self.dead += len(outcome.dead)
        self.failed += 1 if outcome.dead else 0

    def report(self, args: argparse.Namespace, workflow: str, state_path: str) -> int:
        out = sys.stderr if args.dry_run else sys.stdout
        done = "transformed" if args.dry_run else "delivered"
        count = len(self.outputs) if args.dry_run else self.delivered
        line = (f"{workflow}: read {self.read}, {done} {count}, failed {self.failed}"
                + (f" ({self.dead} dead letters)" if self.dead != self.failed else ""))
        if self.skipped:
            line += (f"; {self.skipped} of them skipped, done in an earlier run (--restart "
                     "runs them again)")
        print(line, file=out)
        if self.failed:
            where = f"the dead_letters table of {state_path}"
            if args.dead_letter:
                where += f" and {args.dead_letter}"
            print(f"failed records are in {where}", file=out)
        if self.interrupted:
            print("interrupted: run the same command again to resume", file=sys.stderr)
            return 130
        return 1 if self.failed else 0


def _execute(args: argparse.Namespace, pipeline: Pipeline, journal: Journal, key: str | None,
             lines: Iterator[str]) -> Summary:
    from ..pipeline.records import read_jsonl

    summary = Summary()
    done = journal.done(key)
    dead_file = _open_dead_letter(args.dead_letter)
    progress = _Progress(sys.stderr.isatty() and not args.trace)

    def records() -> Iterator[Record]:
        taken = 0
        for record in read_jsonl(lines):
            if args.limit is not None and taken >= args.limit:
                return
            taken += 1
            if record.number in done:
                summary.read += 1
                summary.skipped += 1
                continue
            yield record

    def finish(outcome: Outcome) -> None:
        journal.finish(key, outcome.record_no, outcome.dead)
        _write_dead(dead_file, outcome.dead)
        summary.add(outcome)
        if args.dry_run:
            for value in outcome.outputs:
                print(json.dumps(value, ensure_ascii=False))
            summary.outputs.extend(outcome.outputs)
        progress.update(summary)

    try:
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            # results are taken in input order (deterministic output, dead letters and
            # journal), with up to 2 x concurrency records submitted ahead
            pending: deque[Future[Outcome]] = deque()
            try:
                for record in records():
                    pending.append(pool.submit(pipeline.process, record))
                    if len(pending) >= args.concurrency * 2:
                        finish(pending.popleft().result())
                while pending:
                    finish(pending.popleft().result())
            except KeyboardInterrupt:
                summary.interrupted = True
                for f in pending:
                    f.cancel()
                for f in pending:  # let the records in flight end and be journaled
                    if not f.cancelled():
                        finish(f.result())
    finally:
        progress.close()
        if dead_file is not None:
            dead_file.close()
    return summary


class _Progress:
    """A progress line on a terminal (rich), nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 TimeElapsedColumn(), transient=True)
            self._task = self._bar.add_task("starting", total=None)
            self._bar.start()

    def update(self, s: Summary) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=f"read {s.read}  delivered {s.delivered}"
                             f"  failed {s.failed}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _open_dead_letter(path: str | None) -> TextIO | None:
    if path is None:
        return None
    try:
        return open(path, "a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--dead-letter {path}: cannot write it ({exc.strerror})") from None


def _write_dead(file: TextIO | None, dead: list[DeadLetter]) -> None:
    if file is None:
        return
    for d in dead:
        file.write(json.dumps(d.as_json(), ensure_ascii=False) + "\n")
    file.flush()


def _store_rotated(state: Any, setup: Setup | None) -> Any:
    """Keep refreshed oauth2 tokens in the setup they came from."""
    from dataclasses import replace

    if setup is None:
        return None

    def save(creds: Any) -> None:
        fresh = creds.as_json()
        entry = dict(setup.credentials or {})
        entry.update({k: fresh[k] for k in ("access_token", "refresh_token", "expires_at")
                      if k in fresh})
        state.save_setup(replace(setup, credentials=entry))

    return save


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
