"""A local stand-in for the parts of the ActiveTrail API that manifest.yaml calls, used to
record cassette.yaml (see README.md). It is not the real service: the shapes follow the
example manifest (an account object; groups as a JSON array paged with Page/Limit; members
and contacts found with SearchTerm; operational SMS and WhatsApp messages).

Every request needs the demo token below in the Authorization header. The data it starts
with (the story the example's contacts.jsonl plays out):

* group 1007 ("Group 7") has two members: grace@example.com (active) and alan@example.com,
  who unsubscribed: the API refuses to subscribe him again (it answers the lookup with his
  status; the manifest's `!error` turns that into a failed record with a clear message);
* the account has one contact, grace@example.com; ada@example.com is new everywhere.

    python examples/activetrail-actions/fake_api.py 8767
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "demo-token"  # what the recording used; the cassette keeps only "***"
GROUPS = [{"id": 1000 + i, "name": f"Group {i}", "active_members": 10 * i}
          for i in range(1, 131)]
FIELDS = [
    {"field_name": "email", "display_name": "Email", "type": "email"},
    {"field_name": "sms", "display_name": "SMS (mobile number)", "type": "phone"},
    {"field_name": "first_name", "display_name": "First name", "type": "text"},
    {"field_name": "last_name", "display_name": "Last name", "type": "text"},
    {"field_name": "city", "display_name": "City", "type": "text"},
    {"field_name": "birthday", "display_name": "Birthday", "type": "date"},
    {"field_name": "ext1", "display_name": "Company (ext1)", "type": "text"},
]
LOCK = threading.Lock()
MEMBERS: dict[int, list[dict[str, Any]]] = {
    1007: [
        {"id": 5002, "email": "grace@example.com", "sms": "+15550101", "first_name": "Grace",
         "last_name": "Hopper", "status": "active", "is_do_not_contact": False},
        {"id": 5003, "email": "alan@example.com", "sms": "", "first_name": "Alan",
         "last_name": "Turing", "status": "unsubscribed", "is_do_not_contact": False},
    ],
}
CONTACTS: list[dict[str, Any]] = [
    {"id": 5002, "email": "grace@example.com", "sms": "+15550101", "first_name": "Grace",
     "last_name": "Hopper", "city": "", "birthday": "", "ext1": "", "status": "active"},
]
NEXT_ID = [7001]


def _new_id() -> int:
    NEXT_ID[0] += 1
    return NEXT_ID[0] - 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if self.headers.get("Authorization") != TOKEN:
            self._reply(401, {"Message": "Authorization has been denied for this request."})
            return
        with LOCK:
            status, answer = self._answer(method, parts.path.removeprefix("/api"), query, body)
        self._reply(status, answer)

    def _answer(self, method: str, path: str, query: dict[str, str], body: Any
                ) -> tuple[int, Any]:
        segments = path.strip("/").split("/")
        search = query.get("SearchTerm", "").lower()
        if method == "GET" and path == "/account":
            return 200, {"id": 48213, "company_name": "Example Garden Supplies Ltd"}
        if method == "GET" and path == "/account/balance":
            return 200, {"email": 1200, "sms": 40, "whatsapp": 25}
        if method == "GET" and path == "/account/contactFields":
            return 200, FIELDS
        if method == "GET" and path == "/groups":
            page, limit = int(query.get("Page", "1")), int(query.get("Limit", "100"))
            return 200, GROUPS[(page - 1) * limit: page * limit]
        if len(segments) >= 3 and segments[:1] == ["groups"] and segments[2] == "members":
            return self._members(method, int(segments[1]), segments[3:], search, body)
        if segments[:1] == ["contacts"]:
            return self._contacts(method, segments[1:], search, body)
        if method == "POST" and path in ("/sms/operational", "/whatsapp/operational"):
            return self._message(path.split("/")[1], body)
        return 404, {"Message": f"No HTTP resource was found for {path}"}

    def _members(self, method: str, group: int, rest: list[str], search: str, body: Any
                 ) -> tuple[int, Any]:
        if group not in {g["id"] for g in GROUPS}:
            return 404, {"Message": f"Group {group} was not found"}
        members = MEMBERS.setdefault(group, [])
        if method == "GET" and not rest:
            return 200, [m for m in members if search in m["email"].lower()]
        if method == "POST" and not rest:
            if any(m["email"] == body.get("email") for m in members):
                return 409, {"Message": "The contact is a member of this group already"}
            member = {"id": _new_id(), "status": "active", **body}
            members.append(member)
            return 200, member
        if method == "PUT" and len(rest) == 1:
            for member in members:
                if str(member["id"]) == rest[0]:
                    if member["status"] != "active":
                        return 400, {"Message": "An unsubscribed contact cannot be updated"}
                    member.update(body)
                    return 200, member
            return 404, {"Message": f"Member {rest[0]} is not in group {group}"}
        return 405, {"Message": f"{method} is not supported here"}

    def _contacts(self, method: str, rest: list[str], search: str, body: Any
                  ) -> tuple[int, Any]:
        if method == "GET" and not rest:
            return 200, [c for c in CONTACTS if search in c["email"].lower()]
        if method == "POST" and not rest:
            if not body or not body.get("email"):
                return 400, {"Message": "email is required"}
            contact = {"id": _new_id(), "status": "active", **body}
            CONTACTS.append(contact)
            return 200, contact
        if method == "PUT" and len(rest) == 1:
            for contact in CONTACTS:
                if str(contact["id"]) == rest[0]:
                    contact.update(body)
                    return 200, contact
            return 404, {"Message": f"Contact {rest[0]} was not found"}
        return 405, {"Message": f"{method} is not supported here"}

    def _message(self, channel: str, body: Any) -> tuple[int, Any]:
        missing = [k for k in ("name", "from_name", "content", "mobile") if not body.get(k)]
        if missing:
            return 400, {"Message": f"required: {', '.join(missing)}"}
        return 200, {"id": _new_id(), "channel": channel, "mobile": body["mobile"],
                     "status": "queued", "segments": 1 + len(body["content"]) // 160}

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
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8767
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
