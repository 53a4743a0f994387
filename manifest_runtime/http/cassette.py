"""Record/replay cassettes (YAML) with every secret scrubbed.

    version: 1
    interactions:
    - request:  {method, url, query, headers, body}
      response: {status, headers, body}

`url` is the URL before any --remap, without its query; `query` maps names to a value or a list
of values. Secrets are replaced with `***` (see redact.py): auth headers, cookies, secret-named
query parameters and body fields, token fields in response bodies, and every known credential
value.

Matching (replay). By default a request matches a recorded one on method + url (with its
query) + body, after the same scrubbing (so a scrubbed cassette still matches; headers are not
compared; a percent-encoded mask `%2A%2A%2A` in the URL counts as `***`). `--match` chooses the
parts (`method,url` leaves the body out), and a cassette may list request fields to leave out
of the comparison, for values that change from run to run (timestamps, a message text):

    version: 1
    match:
      ignore: [body.Body, body.meta.sent_at, query.ts]
    interactions: ...

Each recorded interaction is served once, the first unused match first.

Record modes (`--record-mode`): `append` (default) keeps what an existing cassette holds (its
interactions, its `match` section, its comments) and adds this run's exchanges; `new` refuses
an existing file; `all` starts the interactions afresh (keeping the leading comments and the
`match` section). The header (`version: 1`, `interactions:`) is written once when the cassette
is created, then each exchange is appended as one YAML list item in a single write, so the file
is valid YAML after every exchange and recording stays linear in the number of exchanges. A
header with no item (`interactions:` = null) is an empty cassette; older cassettes written
whole (`interactions: [...]`) read the same (appending to one rewrites it once in the appendable
form).

A cassette file that cannot be created (--record) or read (--replay) is a UsageError (exit 2).
"""

from __future__ import annotations

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
RECORD_MODES = ("append", "new", "all")
MATCH_PARTS = ("method", "url", "body")
DEFAULT_MATCH = MATCH_PARTS
_PROBE = "- {request: {method: GET, url: probe}}\n"


def parse_match(text: str) -> tuple[str, ...]:
    """`--match method,url[,body]`: the request parts a replayed request is matched on."""
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in parts if p not in MATCH_PARTS]
    if unknown or not parts:
        raise UsageError(f"--match {text}: expected a comma-separated list of "
                         f"{', '.join(MATCH_PARTS)} (e.g. method,url), got "
                         f"{', '.join(repr(u) for u in unknown) or 'nothing'}")
    return tuple(p for p in MATCH_PARTS if p in parts)


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

    def key(self, match: tuple[str, ...] = DEFAULT_MATCH,
            ignore: tuple[tuple[str, ...], ...] = ()) -> str:
        """What is compared: the `match` parts, without the `ignore`d fields."""
        body: Any = self.body
        query: Any = self.query
        for path in ignore:
            if path[0] == "body":
                body = _without(body, path[1:])
            elif path[0] == "query":
                query = _without(query, path[1:])
        parts = []
        if "method" in match:
            parts.append(self.method)
        if "url" in match:
            parts.append(self.url)
            parts.append(json.dumps(query, sort_keys=True) if query else "")
        if "body" in match:
            parts.append("" if body is None else json.dumps(body, sort_keys=True))
        return " ".join(parts)

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


def _without(value: Any, path: tuple[str, ...]) -> Any:
    """`value` without the field at `path` (a copy; a missing field changes nothing)."""
    if not path or not isinstance(value, dict) or path[0] not in value:
        return value
    if len(path) == 1:
        return {k: v for k, v in value.items() if k != path[0]}
    return {**value, path[0]: _without(value[path[0]], path[1:])}


def _ignore_list(raw: Any, path: Path) -> tuple[tuple[str, ...], ...]:
    """The cassette's `match.ignore`: `body.<field>[.<field>...]` or `query.<name>`."""
    def fail(why: str) -> UsageError:
        return UsageError(f"--replay {path}: the cassette's match section: {why}")

    if raw is None:
        return ()
    if not isinstance(raw, dict) or set(raw) - {"ignore"}:
        raise fail("expected {ignore: [body.<field>, query.<name>, ...]}")
    entries = raw.get("ignore") or []
    if not isinstance(entries, list):
        raise fail("ignore must be a list, e.g. [body.Body, query.timestamp]")
    out = []
    for entry in entries:
        parts = tuple(str(entry).split(".")) if isinstance(entry, str) else ()
        if len(parts) < 2 or parts[0] not in ("body", "query") or "" in parts:
            raise fail(f"ignore entry {entry!r} is not body.<field> or query.<name>")
        out.append(parts)
    return tuple(out)


class Cassette:
    """A recording (mode "record") or a replay source (mode "replay"). Thread-safe.

    `record_mode` (recording): append, new or all (module docstring). `match` (replay): the
    request parts compared (DEFAULT_MATCH: method, url, body)."""

    def __init__(self, path: str | os.PathLike[str], mode: str, redactor: Redactor, *,
                 record_mode: str = "append",
                 match: tuple[str, ...] = DEFAULT_MATCH) -> None:
        if mode not in ("record", "replay"):
            raise ValueError(f"cassette mode must be record or replay, not {mode!r}")
        if record_mode not in RECORD_MODES:
            raise ValueError(f"record mode must be one of {RECORD_MODES}, not {record_mode!r}")
        self.path = Path(path)
        self.mode = mode
        self.redactor = redactor
        self.match = match
        self.ignore: tuple[tuple[str, ...], ...] = ()
        self._lock = threading.Lock()
        self._interactions: list[dict[str, Any]] = []  # replay only (recording appends)
        self._keys: list[str] = []
        self._used: list[bool] = []
        self.recorded = 0
        if mode == "replay":
            data = load_cassette(self.path)
            self._interactions = data["interactions"]
            self.ignore = _ignore_list(data.get("match"), self.path)
            self._keys = [_request_of(e).key(match, self.ignore) for e in self._interactions]
            self._used = [False] * len(self._interactions)
        else:
            self._open(record_mode)

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
        key = wanted.key(self.match, self.ignore)
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
        import difflib  # an unmatched request only (start-up)

        by_key = {r.key(self.match, self.ignore): r for r in recorded}
        close = difflib.get_close_matches(wanted.key(self.match, self.ignore), list(by_key),
                                          n=3, cutoff=0.0)
        listing = "; ".join(by_key[k].describe() for k in close) or "the cassette is empty"
        return Diagnostic(
            code="replay-unmatched",
            message=f"no recorded response in {self.path} for {wanted.describe()} "
                    f"({used} of {len(recorded)} recorded interactions already used); "
                    f"closest recorded: {listing}",
            path=where,
            hint="record it into the cassette with --record (appended by default), match on "
                 "fewer parts (--match method,url), or list the fields that vary in the "
                 "cassette's `match: {ignore: [body.<field>]}` (docs/http.md)",
        )

    def _open(self, record_mode: str) -> None:
        """Prepare the file for appending items, as `record_mode` says."""
        exists = self.path.is_file() and self.path.stat().st_size > 0
        if exists and record_mode == "new":
            raise UsageError(f"--record {self.path}: the cassette exists already; "
                             "--record-mode append (the default) adds to it, --record-mode all "
                             "records it afresh")
        if not exists:
            self._write(HEADER)
            return
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not a UTF-8 text file"
            raise UsageError(f"--record {self.path}: cannot read the cassette to add to it: "
                             f"{why}") from None
        data = load_cassette(self.path, "--record", text)
        keep = {k: v for k, v in data.items() if k not in ("version", "interactions")}
        comments = _leading_comments(text)
        if record_mode == "all":
            self._write(comments + _header(keep))
        elif not _appendable(text, len(data["interactions"])):
            self._write(comments + _header(keep)
                        + "".join(_dump_item(e) for e in data["interactions"]))

    def _write(self, text: str) -> None:
        """(Re)write the file; a path that cannot be written is a usage error."""
        try:
            with self.path.open("w", encoding="utf-8") as f:
                f.write(text)
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


def _leading_comments(text: str) -> str:
    """The comment lines a cassette starts with (kept when it is rewritten)."""
    out = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        out.append(line if line.endswith("\n") else line + "\n")
    return "".join(out)


def _header(keep: dict[str, Any]) -> str:
    """`version`, the other top-level keys (match), then `interactions:` (items follow)."""
    import yaml

    middle = yaml.dump(keep, Dumper=_dumper(), sort_keys=False, allow_unicode=True,
                       default_flow_style=False) if keep else ""
    return f"version: {VERSION}\n{middle}interactions:\n"


def _appendable(text: str, count: int) -> bool:
    """Does appending an item to `text` add one interaction (interactions is the last key, in
    block style)? Checked once with a probe item, never written."""
    import yaml

    probe = text if text.endswith("\n") else text + "\n"
    try:
        data = yaml.load(probe + _PROBE, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return False
    entries = data.get("interactions") if isinstance(data, dict) else None
    return isinstance(entries, list) and len(entries) == count + 1 and text.endswith("\n")


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
    entries: list[dict[str, Any]] = load_cassette(path)["interactions"]
    return entries


def load_cassette(path: Path, option: str = "--replay", text: str | None = None
                  ) -> dict[str, Any]:
    """A cassette file's top level, `interactions` a list (empty for a bare header); anything
    wrong with the file is a UsageError."""
    import yaml

    def fail(why: str) -> UsageError:
        doing = "cannot replay" if option == "--replay" else "cannot add to it"
        return UsageError(f"{option} {path}: {doing}: {why} "
                          "(record a cassette with --record FILE)")

    if text is None:
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
        entries = []
    if not isinstance(entries, list):
        raise fail("'interactions' must be a list")
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            raise fail(f"interaction {number} has no 'request' mapping")
    return {**data, "interactions": list(entries)}


def _yaml_problem(exc: Exception) -> str:
    """A YAML error on one line: what, and where."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem is None:
        return " ".join(str(exc).split())
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"
