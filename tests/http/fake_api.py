"""A small third-party API over real loopback HTTP, for end-to-end runs of the CLI.

It checks each auth type the way a real API would, pages `/v1/contacts` in all three styles,
and misbehaves on request: a `faults` script answers 429 / 500 / 503, drops the connection
without a response ("drop") or stalls for SLOW_SECONDS ("slow"), in order, before it answers
normally. Every request it sees is kept in
`requests` (method, path, query, headers, body) so tests can assert what was sent.

    with FakeApi(auth=token_settings, faults={"/v1/contacts": ["429", "drop"]}) as api:
        api.url   # http://127.0.0.1:<port>
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loopback import Loopback, QuietHandler

CONTACTS = [{"id": f"c{i}", "name": f"Contact {i}"} for i in range(1, 8)]
SLOW_SECONDS = 1.0
SESSION_USES = 2  # a session token is good for this many requests, then it answers 401


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeApi(Loopback):
    """`auth` tells what the server accepts: {"type": token|basic|oauth2|session, ...}
    (see `_authorized`). `faults` maps a path to the misbehaviours to play first."""

    auth: dict[str, Any]
    faults: dict[str, list[str]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, int] = {}
        self._logins = 0
        self._access = self.auth.get("valid_access_token")
        self._refresh = self.auth.get("refresh_token")
        self._refreshes = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                api._handle(self)

            def do_POST(self) -> None:
                api._handle(self)

        return Handler

    # -- requests ------------------------------------------------------------------------------

    def _handle(self, h: QuietHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        seen = Seen(h.command, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in h.headers.items()}, _body(raw, h.headers))
        with self._lock:
            self.requests.append(seen)
            script = self.faults.get(parts.path)
            fault = script.pop(0) if script else None
        if fault == "slow":  # longer than the client's --timeout in the tests that use it
            time.sleep(SLOW_SECONDS)
            fault = None
        if fault == "drop":
            h.close_connection = True
            h.connection.close()  # no status line at all: the client sees a disconnect
            return
        if fault is not None:
            status = int(fault)
            retry_after = {"Retry-After": "0"} if status in (429, 503) else {}
            h.reply(status, {"error": f"injected {status}"}, retry_after)
            return
        status, body = self._route(seen)
        h.reply(status, body)

    def _route(self, seen: Seen) -> tuple[int, Any]:
        if seen.path == "/oauth/refresh" and seen.method == "POST":
            return self._oauth_refresh(seen)
        if seen.path == "/login" and seen.method == "POST":
            return self._login(seen)
        if not self._authorized(seen):
            return 401, {"error": "unauthorized"}
        if seen.path == "/v1/me":
            return 200, {"email": "owner@example.com", "name": "Owner"}
        if seen.path == "/v1/contacts" and seen.method == "GET":
            return _contacts_page(seen.query)
        if seen.path.startswith("/v1/contacts/") and seen.path.endswith("/notes") \
                and seen.method == "POST":
            return 201, {"id": f"note-{len(self.requests)}", "body": seen.body}
        return 404, {"error": f"no route {seen.method} {seen.path}"}

    def _authorized(self, seen: Seen) -> bool:
        kind = self.auth["type"]
        header = seen.headers.get("authorization", "")
        if kind == "token":
            return seen.headers.get(self.auth["header"].lower()) == self.auth["value"]
        if kind == "basic":
            return header == "Basic " + _b64(f"{self.auth['username']}:{self.auth['password']}")
        with self._lock:
            if kind == "oauth2":
                return header == f"Bearer {self._access}"
            token = header.removeprefix("Bearer ")
            if token not in self._sessions or self._sessions[token] >= SESSION_USES:
                return False
            self._sessions[token] += 1
            return True

    def _login(self, seen: Seen) -> tuple[int, Any]:
        basic = "Basic " + _b64(f"{self.auth['username']}:{self.auth['password']}")
        if seen.headers.get("authorization") != basic or seen.body != self.auth["body"]:
            return 401, {"error": "bad login"}
        with self._lock:
            self._logins += 1
            token = f"{self.auth['token_prefix']}{self._logins}"
            self._sessions[token] = 0
        return 200, {"access_token": token, "expires_in": 3600}

    def _oauth_refresh(self, seen: Seen) -> tuple[int, Any]:
        form = seen.body if isinstance(seen.body, dict) else {}
        client = (form.get("client_id"), form.get("client_secret"))
        if client != (self.auth.get("client_id"), self.auth.get("client_secret")):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != \
                self._refresh:
            return 400, {"error": "invalid_grant"}
        with self._lock:
            self._refreshes += 1
            self._access = f"{self.auth['access_prefix']}{self._refreshes}"
            self._refresh = f"{self.auth['refresh_prefix']}{self._refreshes}"
        return 200, {"access_token": self._access, "refresh_token": self._refresh,
                     "expires_in": 3600, "token_type": "bearer"}

    @property
    def current_refresh_token(self) -> str | None:
        return self._refresh


def _contacts_page(query: dict[str, str]) -> tuple[int, Any]:
    """Pages of CONTACTS in whichever style the query asks for; `sort=asc` is required."""
    if query.get("sort") != "asc":
        return 400, {"error": "sort=asc is required"}
    if "page" in query:
        size = int(query.get("per_page", "3"))
        start = (int(query["page"]) - 1) * size
        pages = -(-len(CONTACTS) // size)
        return 200, {"contacts": CONTACTS[start:start + size],
                     "meta": {"total_pages": pages, "page": int(query["page"])}}
    limit = int(query.get("limit", "3"))
    if "offset" in query:
        start = int(query["offset"])
        return 200, {"contacts": CONTACTS[start:start + limit], "total_items": len(CONTACTS),
                     "offset": start}
    start = int(query.get("cursor", "0"))
    following = start + limit
    return 200, {"contacts": CONTACTS[start:following],
                 "next_cursor": str(following) if following < len(CONTACTS) else None}


def _body(raw: bytes, headers: Any) -> Any:
    if not raw:
        return None
    text = raw.decode()
    if "x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
        return {k: v[-1] for k, v in parse_qs(text).items()}
    try:
        return json.loads(text)
    except ValueError:
        return text


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@contextmanager
def running(auth: dict[str, Any], faults: dict[str, list[str]] | None = None
            ) -> Iterator[FakeApi]:
    with FakeApi(auth, {k: list(v) for k, v in (faults or {}).items()}) as api:
        yield api
