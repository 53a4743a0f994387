"""A local stand-in for the parts of an "Email API" (the user-management API of seed 004:
users created, updated, deactivated and deleted) that manifest.yaml calls, used to record
cassette.yaml (see README.md). It is not a real service; the shapes follow the manifest.

* `POST /v1/oauth/token` — the session login: HTTP Basic client id and secret, JSON body
  `{"grant_type": "client_credentials"}`; answers `{access_token, token_type, expires_in}`.
  Every other request needs `Authorization: Bearer <that token>`.
* `GET /v1/me` — the connected account; `GET /v1/locations` — its locations.
* `GET /v1/users?location_id=&updated_after=&cursor=&limit=&include_deleted=true` — users
  ordered by `updated_at`, only those updated strictly after `updated_after` when given;
  `{users: [...], next_cursor}` (null on the last page). Deleted users are kept with
  `deleted: true` (the API soft-deletes), deactivated ones have `status: "deactivated"`.
The story: location "Garden Centre" starts with Ada, Grace (active), Alan (deactivated) and
Edsger (deleted); Linus belongs to another location. Once the last page of a full listing
(no `updated_after`: the first import) has been served, a batch of changes happens, so the
next poll has something to pick up: Ada is renamed (Lovelace -> King), Grace deactivated,
Barbara created.

    python examples/email-api-polling/fake_api.py 8768
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "demo-client"  # the session login's username and password (Basic)
CLIENT_SECRET = "demo-email-api-secret"
LOCK = threading.Lock()
TOKENS: set[str] = set()


def _user(uid: str, email: str, first: str, last: str, phone: str, location: str,
          updated: str, status: str = "active", deleted: bool = False) -> dict[str, Any]:
    return {"id": uid, "location_id": location, "email": email, "first_name": first,
            "last_name": last, "phone": phone, "status": status, "deleted": deleted,
            "created_at": updated, "updated_at": updated}


USERS = [
    _user("usr_1", "ada@example.com", "Ada", "Lovelace", "+15550100", "loc_garden",
          "2026-11-01T09:00:00Z"),
    _user("usr_2", "grace@example.com", "Grace", "Hopper", "+15550101", "loc_garden",
          "2026-11-02T09:00:00Z"),
    _user("usr_3", "alan@example.com", "Alan", "Turing", "+15550102", "loc_garden",
          "2026-11-03T09:00:00Z", status="deactivated"),
    _user("usr_4", "edsger@example.com", "Edsger", "Dijkstra", "", "loc_garden",
          "2026-11-04T09:00:00Z", deleted=True),
    _user("usr_5", "linus@example.com", "Linus", "Torvalds", "", "loc_hq",
          "2026-11-05T09:00:00Z"),
]


ADVANCED: list[bool] = []


def _advance() -> None:
    if ADVANCED:
        return
    ADVANCED.append(True)
    ada, grace = USERS[0], USERS[1]
    ada.update(last_name="King", updated_at="2026-11-20T10:00:00Z")
    grace.update(status="deactivated", updated_at="2026-11-20T10:05:00Z")
    USERS.append(_user("usr_6", "barbara@example.com", "Barbara", "Liskov", "+15550106",
                       "loc_garden", "2026-11-20T10:10:00Z"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with LOCK:
            status, body = self._answer(method, parts.path, query, raw)
        self._reply(status, body)

    def _answer(self, method: str, path: str, query: dict[str, str], raw: bytes
                ) -> tuple[int, Any]:
        if method == "POST" and path == "/v1/oauth/token":
            return self._login(raw)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in TOKENS:
            return 401, {"error": "invalid_token", "message": "log in at /v1/oauth/token"}
        if method == "GET" and path == "/v1/me":
            return 200, {"id": "acct_7301", "name": "Example Garden Supplies",
                         "email": "ops@garden.example"}
        if method == "GET" and path == "/v1/locations":
            return 200, {"locations": [{"id": "loc_garden", "name": "Garden Centre"},
                                       {"id": "loc_hq", "name": "Head Office"}]}
        if method == "GET" and path == "/v1/users":
            return self._users(query)
        return 404, {"error": "not_found", "message": f"{method} {path}"}

    def _login(self, raw: bytes) -> tuple[int, Any]:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return 401, {"error": "invalid_client"}
        body = json.loads(raw or b"{}")
        if body.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        token = "sess-" + secrets.token_hex(12)
        TOKENS.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                     "scope": "users.readonly"}

    def _users(self, query: dict[str, str]) -> tuple[int, Any]:
        limit = int(query.get("limit") or 100)
        start = int(query.get("cursor") or 0)
        after = query.get("updated_after") or ""
        users = sorted((u for u in USERS
                        if u["location_id"] == query.get("location_id", u["location_id"])
                        and u["updated_at"] > after
                        and (query.get("include_deleted") == "true" or not u["deleted"])),
                       key=lambda u: (u["updated_at"], u["id"]))
        page = [dict(u) for u in users[start:start + limit]]
        more = start + limit < len(users)
        if not after and not more:  # the first import is in: the changes happen
            _advance()
        return 200, {"users": page, "next_cursor": str(start + limit) if more else None}

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8768
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
