"""HTTP options shared by every command that evaluates a manifest (eval now; setup, run, poll
and serve later): credentials, remaps, cassettes, retries, timeout, and the attempt trace."""

from __future__ import annotations

import argparse
import os
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


def http_service(args: argparse.Namespace, compiled: CompiledManifest, auth_name: str | None,
                 *, trace: bool | Callable[[TraceEvent], None],
                 stored: dict[str, Any] | None = None,
                 save_stored: Callable[[Credentials], None] | None = None,
                 credentials: Credentials | None = None,
                 redactor: Redactor | None = None,
                 record_mode: str | None = None) -> HttpClient:
    """The production HTTP client for this run; with `trace`, each attempt goes to stderr
    (or to `trace` itself when it is a function: the studio's trace panel).

    Credentials: `credentials` when given (complete: setup merges its answers over the file
    and the environment itself), else --credentials FILE, else `stored` (what setup kept in
    the state file), then the MANIFEST_RUNTIME_* variables, then --subdomain (when the
    command has it) on top. Refreshed oauth2 tokens go back where the credentials came from
    (`save_stored` for the state file). `redactor`: share one across clients of a run.
    `record_mode` overrides --record-mode (setup opens a client per credentials try: after
    the first, it appends)."""
    from ..http import build_http_service, load_credentials
    from ..http.credentials import apply_env, credentials_from_mapping

    match = cassette_options(args)
    if credentials is not None:  # the caller keeps them (setup saves them in the state)
        saver = _saver(args.credentials, auth_name, warn_lost=False)
    elif args.credentials is None and stored:
        credentials = apply_env(credentials_from_mapping(stored, "the stored credentials"),
                                os.environ)
        saver = save_stored or _saver(None, auth_name)
    else:
        credentials = load_credentials(auth_name, args.credentials)
        saver = _saver(args.credentials, auth_name)
    if getattr(args, "subdomain", None):  # --subdomain wins over the file and the environment
        credentials = credentials.updated(subdomain=args.subdomain)
    return build_http_service(
        compiled,
        auth_name,
        credentials=credentials,
        env={},  # already applied, below --subdomain
        remaps=args.remap,
        record=args.record,
        replay=args.replay,
        max_attempts=args.max_attempts,
        timeout=args.timeout,
        trace=trace if callable(trace) else print_attempt if trace else None,
        on_credentials_changed=saver,
        notice=print_notice,
        retry_unsafe=args.retry_unsafe,
        redactor=redactor,
        record_mode=record_mode or getattr(args, "record_mode", None) or "append",
        match=match,
    )


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


def print_attempt(event: TraceEvent) -> None:
    """One stderr line per HTTP attempt (the URL is already redacted)."""
    outcome = f"{event.status}" if event.error is None else f"failed: {event.error}"
    purpose = "" if event.purpose == "request" else f" [{event.purpose}]"
    replayed = " (replayed)" if event.replayed else ""
    from .session import print_trace

    print_trace(f"http: {event.method} {event.url} attempt {event.attempt}{purpose} -> "
                f"{outcome} in {event.elapsed_ms:.1f} ms{replayed}")


def print_notice(message: str) -> None:
    """Long waits and given-up retries, always shown (already redacted)."""
    print(f"manifest-runtime: {message}", file=sys.stderr)


def _saver(path: str | None, auth_name: str | None, warn_lost: bool = True) -> Any:
    """Keep rotated oauth2 tokens: in the credentials file, or (`warn_lost`) warn that they
    are lost."""
    from ..http.credentials import save_rotated

    def save(creds: Credentials) -> None:
        if path is None or auth_name is None:
            if not warn_lost:
                return
            print("manifest-runtime: warning: the access token was refreshed but there is no "
                  "--credentials file to save it in; a rotated refresh token is lost after "
                  "this run", file=sys.stderr)
            return
        try:
            save_rotated(path, auth_name, creds)
        except (OSError, UsageError) as exc:
            print(f"manifest-runtime: warning: could not save refreshed tokens to {path}: "
                  f"{exc}", file=sys.stderr)

    return save


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
