"""Record/replay cassettes (YAML) with every secret scrubbed.

    version: 1
    interactions:
    - request:  {method, url, query, headers, body}
      response: {status, headers, body}

`url` is the URL before any --remap, without its query; `query` maps names to a value or a list
of values. Secrets are replaced with `***` (see redact.py): auth headers, cookies, secret-named
query parameters and body fields, token fields in response bodies, and every known credential
value. Replay matches method + url + query + body (after the same scrubbing, so a scrubbed
cassette still matches; headers are not compared; a percent-encoded mask `%2A%2A%2A` in the URL
counts as `***`) and serves recorded interactions in order.

Recording appends: the header (`version: 1`, `interactions:`) is written once when the cassette
is created, then each exchange is appended as one YAML list item in a single write, so the file
is valid YAML after every exchange and recording stays linear in the number of exchanges. A
header with no item (`interactions:` = null) is an empty cassette; older cassettes written
whole (`interactions: [...]`) read the same.

A cassette file that cannot be created (--record) or read (--replay) is a UsageError (exit 2).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ..errors import Diagnostic, EvaluationError, UsageError
from ..paths import Path as ManifestPath
from .redact import Redactor
from .types import HttpResponse

VERSION = 1
HEADER = f"version: {VERSION}\ninteractions:\n"
_ENCODED_STAR = re.compile("%2a", re.IGNORECASE)


def normalize_url(url: str) -> str:
    """`%2A` (an encoded `*`, e.g. a replayed `***` put into a path) counts as `*`."""
    return _ENCODED_STAR.sub("*", url)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any

    def key(self) -> str:
        body = "" if self.body is None else json.dumps(self.body, sort_keys=True)
        query = json.dumps(self.query, sort_keys=True) if self.query else ""
        return f"{self.method} {self.url} {query} {body}"

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        body = "" if self.body is None else f" body={json.dumps(self.body, sort_keys=True)}"
        return f"{self.method} {self.url}{'?' + query if query else ''}{body}"


def scrub_request(redactor: Redactor, method: str, url: str, headers: dict[str, str],
                  body: Any) -> RecordedRequest:
    parts = urlsplit(url)
    query: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    flat = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    scrubbed_body = redactor.fields(body) if isinstance(body, dict) else redactor.value(body)
    return RecordedRequest(method.upper(), normalize_url(redactor.url(bare)),
                           redactor.fields(flat), redactor.headers(headers), scrubbed_body)


class Cassette:
    """A recording (mode "record") or a replay source (mode "replay"). Thread-safe."""

    def __init__(self, path: str | os.PathLike[str], mode: str, redactor: Redactor) -> None:
        if mode not in ("record", "replay"):
            raise ValueError(f"cassette mode must be record or replay, not {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self.redactor = redactor
        self._lock = threading.Lock()
        self._interactions: list[dict[str, Any]] = []  # replay only (recording appends)
        self._keys: list[str] = []
        self._used: list[bool] = []
        self.recorded = 0
        if mode == "replay":
            self._interactions = load_interactions(self.path)
            self._keys = [_request_of(e).key() for e in self._interactions]
            self._used = [False] * len(self._interactions)
        else:
            self._create()

    def record(self, method: str, url: str, headers: dict[str, str], body: Any,
               response: HttpResponse) -> None:
        request = scrub_request(self.redactor, method, url, headers, body)
        entry = {
            "request": {"method": request.method, "url": request.url, "query": request.query,
                        "headers": request.headers, "body": request.body},
            "response": {"status": response.status,
                         "headers": self.redactor.headers(response.headers),
                         "body": self.redactor.value(response.body)},
        }
        text = _dump_item(entry)
        with self._lock:
            self._append(text)
            self.recorded += 1

    def play(self, method: str, url: str, headers: dict[str, str], body: Any,
             where: ManifestPath = ()) -> HttpResponse:
        wanted = scrub_request(self.redactor, method, url, headers, body)
        key = wanted.key()
        with self._lock:
            for i, entry in enumerate(self._interactions):
                if not self._used[i] and self._keys[i] == key:
                    self._used[i] = True
                    response = entry.get("response") or {}
                    return HttpResponse(int(response.get("status", 200)),
                                        {str(k).lower(): str(v) for k, v in
                                         (response.get("headers") or {}).items()},
                                        response.get("body"))
            recorded = [_request_of(e) for e in self._interactions]
            used = sum(self._used)
        raise EvaluationError(self._unmatched(wanted, recorded, used, where))

    def _unmatched(self, wanted: RecordedRequest, recorded: list[RecordedRequest], used: int,
                   where: ManifestPath) -> Diagnostic:
        by_key = {r.key(): r for r in recorded}
        close = difflib.get_close_matches(wanted.key(), list(by_key), n=3, cutoff=0.0)
        listing = "; ".join(by_key[k].describe() for k in close) or "the cassette is empty"
        return Diagnostic(
            code="replay-unmatched",
            message=f"no recorded response in {self.path} for {wanted.describe()} "
                    f"({used} of {len(recorded)} recorded interactions already used); "
                    f"closest recorded: {listing}",
            path=where,
            hint="re-record the cassette with --record, or check the request's parameters",
        )

    def _create(self) -> None:
        """Start the file with the header; a path that cannot be written is a usage error."""
        try:
            with self.path.open("w", encoding="utf-8") as f:
                f.write(HEADER)
        except OSError as exc:
            raise UsageError(f"--record {self.path}: cannot create the cassette: "
                             f"{_reason(exc, self.path)}") from None

    def _append(self, text: str) -> None:
        """One interaction, written in one piece (the file stays valid YAML)."""
        data = text.encode("utf-8")
        try:
            with self.path.open("ab", buffering=0) as f:
                view = memoryview(data)
                while view:
                    view = view[f.write(view) or 0:]
        except OSError as exc:
            raise EvaluationError(Diagnostic(
                "record-cassette", f"cannot write to the cassette {self.path}: "
                f"{_reason(exc, self.path)}")) from None


def _dumper() -> Any:
    import yaml

    return getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump_item(entry: dict[str, Any]) -> str:
    """`entry` as one YAML block-sequence item (`- request: ...`), to append after the header."""
    import yaml

    text: str = yaml.dump([entry], Dumper=_dumper(), sort_keys=False, allow_unicode=True,
                          default_flow_style=False)
    return text


def _reason(exc: OSError, path: Path) -> str:
    """Why a cassette path cannot be used, in words."""
    if isinstance(exc, FileNotFoundError) and not path.parent.is_dir():
        return f"the directory {path.parent} does not exist"
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        return "it is a directory"
    return exc.strerror or str(exc)


def _request_of(entry: dict[str, Any]) -> RecordedRequest:
    req = entry.get("request") or {}
    return RecordedRequest(str(req.get("method", "GET")).upper(),
                           normalize_url(str(req.get("url", ""))),
                           dict(req.get("query") or {}), dict(req.get("headers") or {}),
                           req.get("body"))


def load_interactions(path: Path) -> list[dict[str, Any]]:
    """The interactions of a cassette file; anything wrong with the file is a UsageError."""
    import yaml

    def fail(why: str) -> UsageError:
        return UsageError(f"--replay {path}: cannot replay: {why} "
                          "(record a cassette with --record FILE)")

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise fail("not a UTF-8 text file") from None
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise fail("no such file") from None
        raise fail(_reason(exc, path)) from None
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise fail(f"not valid YAML ({_yaml_problem(exc)})") from None
    if not isinstance(data, dict) or "interactions" not in data:
        raise fail("expected a mapping with 'version' and an 'interactions' list")
    if data.get("version", VERSION) != VERSION:
        raise fail(f"unknown cassette version {data.get('version')!r} (expected {VERSION})")
    entries = data["interactions"]
    if entries is None:  # the header alone: a recording with no exchange
        return []
    if not isinstance(entries, list):
        raise fail("'interactions' must be a list")
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            raise fail(f"interaction {number} has no 'request' mapping")
    return list(entries)


def _yaml_problem(exc: Exception) -> str:
    """A YAML error on one line: what, and where."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem is None:
        return " ".join(str(exc).split())
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"
