"""HTTP options shared by every command that evaluates a manifest (eval now; setup, run, poll
and serve later): credentials, remaps, cassettes, retries, timeout, and the attempt trace."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .ac_options import add_ac_options

if TYPE_CHECKING:
    from ..http.client import HttpClient
    from ..http.credentials import Credentials
    from ..http.redact import Redactor
    from ..http.trace import TraceEvent
    from ..model import CompiledManifest
    from ..pipeline.opening import HttpOptions, Reporter


def add_http_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--credentials", metavar="FILE",
                   help="credentials file (JSON/YAML keyed by auth name; see docs/http.md); "
                   "refreshed oauth2 tokens are saved back into it")
    p.add_argument("--record", metavar="FILE",
                   help="write every HTTP exchange to a cassette (added to an existing one)")
    p.add_argument("--record-mode", choices=("append", "new", "all"), metavar="MODE",
                   help="with --record: append (default: keep what the cassette holds and add "
                   "to it), new (refuse an existing file) or all (record it afresh)")
    p.add_argument("--replay", metavar="FILE", help="answer HTTP requests from a cassette")
    p.add_argument("--match", metavar="PARTS",
                   help="with --replay: the request parts compared, default method,url,body; "
                   "method,url ignores bodies (a cassette's `match: {ignore: [...]}` leaves "
                   "out single fields)")
    p.add_argument("--remap", action="append", default=[], metavar="FROM=TO",
                   help="send requests for FROM (scheme://host[:port]) to TO instead "
                   "(repeatable)")
    p.add_argument("--max-attempts", type=positive_int, default=3, metavar="N",
                   help="attempts per request, the first included (default 3)")
    p.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                   help="connect/read/write timeout of each attempt (default 30)")
    p.add_argument("--retry-unsafe", action="store_true",
                   help="also retry POST/PATCH after a 5xx or a lost answer (the server may "
                   "then act twice); by default they are retried only when surely not acted on")
    add_ac_options(p)


def http_options(args: argparse.Namespace) -> HttpOptions:
    """The typed HTTP options of a command's arguments (checked: --record/--replay/--match)."""
    from ..pipeline.opening import HttpOptions

    return HttpOptions(
        credentials=args.credentials, record=args.record,
        record_mode=getattr(args, "record_mode", None), replay=args.replay,
        match=cassette_options(args), remap=tuple(args.remap),
        max_attempts=args.max_attempts, timeout=args.timeout, retry_unsafe=args.retry_unsafe,
        subdomain=getattr(args, "subdomain", None) or None,
        ac_url=getattr(args, "ac_url", None), ac_token=getattr(args, "ac_token", None))


def cli_reporter() -> Reporter:
    """Messages of an open pipeline on stderr."""
    from ..pipeline.opening import Reporter

    return Reporter(notice=print_stderr, log=print_stderr, trace=print_stderr)


def print_stderr(text: str) -> None:
    print(text, file=sys.stderr)


def http_service(args: argparse.Namespace, compiled: CompiledManifest, auth_name: str | None,
                 *, trace: bool | Callable[[TraceEvent], None],
                 stored: dict[str, Any] | None = None,
                 save_stored: Callable[[Credentials], None] | None = None,
                 credentials: Credentials | None = None,
                 redactor: Redactor | None = None,
                 record_mode: str | None = None) -> HttpClient:
    """The production HTTP client for this command's options (pipeline/opening.py
    `http_service`); with `trace`, each attempt goes to stderr."""
    from ..pipeline import opening

    return opening.http_service(http_options(args), compiled, auth_name, cli_reporter(),
                                trace=trace, stored=stored, save_stored=save_stored,
                                credentials=credentials, redactor=redactor,
                                record_mode=record_mode)


def cassette_options(args: argparse.Namespace) -> tuple[str, ...] | None:
    """Check --record/--replay/--record-mode/--match together; the parsed --match (None:
    the default). Usage errors before anything is asked or sent."""
    from ..http.cassette import parse_match

    if args.record and args.replay:
        raise UsageError("--record and --replay cannot be used together")
    if getattr(args, "record_mode", None) is not None and not args.record:
        raise UsageError("--record-mode goes with --record FILE")
    if getattr(args, "match", None) is not None and not args.replay:
        raise UsageError("--match goes with --replay FILE (it says how recorded requests "
                         "are matched)")
    return None if getattr(args, "match", None) is None else parse_match(args.match)


def _positive(kind: type[int] | type[float], expected: str) -> Any:
    """An argparse type: a number of `kind` above 0 (ints: at least 1)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not value > 0:  # also rejects NaN
            raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
        return value

    return parse


positive_int = _positive(int, "a whole number")
_positive_float = _positive(float, "a number of seconds")
