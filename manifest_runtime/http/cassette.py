"""Record/replay cassettes (YAML) with every secret scrubbed.

    version: 1
    interactions:
    - request:  {method, url, query, headers, body}
      response: {status, headers, body}

`url` is the URL before any --remap, without its query; `query` maps names to a value or a list
of values. Secrets are replaced with `***` (see redact.py): auth headers, cookies, secret-named
query parameters and body fields, token fields in response bodies, and every known credential
value. Replay matches method + url + query + body (after the same scrubbing, so a scrubbed
cassette still matches; headers are not compared) and serves recorded interactions in order.
"""

from __future__ import annotations

import difflib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ..errors import Diagnostic, EvaluationError
from ..paths import Path as ManifestPath
from .redact import Redactor
from .types import HttpResponse

VERSION = 1


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
    return RecordedRequest(method.upper(), redactor.url(bare), redactor.fields(flat),
                           redactor.headers(headers), scrubbed_body)


class Cassette:
    """A recording (mode "record") or a replay source (mode "replay"). Thread-safe."""

    def __init__(self, path: str | os.PathLike[str], mode: str, redactor: Redactor) -> None:
        if mode not in ("record", "replay"):
            raise ValueError(f"cassette mode must be record or replay, not {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self.redactor = redactor
        self._lock = threading.Lock()
        self._interactions: list[dict[str, Any]] = []
        self._used: list[bool] = []
        if mode == "replay":
            self._interactions = load_interactions(self.path)
            self._used = [False] * len(self._interactions)
        else:
            self._save()

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
        with self._lock:
            self._interactions.append(entry)
            self._save()

    def play(self, method: str, url: str, headers: dict[str, str], body: Any,
             where: ManifestPath = ()) -> HttpResponse:
        wanted = scrub_request(self.redactor, method, url, headers, body)
        key = wanted.key()
        with self._lock:
            for i, entry in enumerate(self._interactions):
                if not self._used[i] and _request_of(entry).key() == key:
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

    def _save(self) -> None:
        import yaml

        text = yaml.safe_dump({"version": VERSION, "interactions": self._interactions},
                              sort_keys=False, allow_unicode=True, default_flow_style=False)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path)


def _request_of(entry: dict[str, Any]) -> RecordedRequest:
    req = entry.get("request") or {}
    return RecordedRequest(str(req.get("method", "GET")).upper(), str(req.get("url", "")),
                           dict(req.get("query") or {}), dict(req.get("headers") or {}),
                           req.get("body"))


def load_interactions(path: Path) -> list[dict[str, Any]]:
    import yaml

    def fail(why: str) -> EvaluationError:
        return EvaluationError(Diagnostic("replay-cassette", f"cannot replay {path}: {why}",
                                          hint="record one with --record FILE"))

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    except yaml.YAMLError as exc:
        raise fail(f"not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise fail("expected a mapping with an 'interactions' list")
    entries = data["interactions"]
    if not all(isinstance(e, dict) and isinstance(e.get("request"), dict) for e in entries):
        raise fail("every interaction needs a 'request' mapping")
    return list(entries)
