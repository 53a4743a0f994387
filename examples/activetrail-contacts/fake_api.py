"""A local stand-in for the parts of the ActiveTrail API this example calls, used to record
cassette.yaml (see README.md). It is not the real service: the shapes follow the example
manifest (an account object; groups as a JSON array paged with Page/Limit; webhook
registrations: POST /webhooks answers the new hook's id, DELETE /webhooks/{id} removes it).

    python examples/activetrail-contacts/fake_api.py 8765
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "demo-token"  # what the recording used; the cassette keeps only "***"
GROUPS = [{"id": 1000 + i, "name": f"Group {i}", "active_members": 10 * i}
          for i in range(1, 131)]
HOOKS: dict[str, dict[str, Any]] = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if self.headers.get("Authorization") != TOKEN:
            self._reply(401, {"Message": "Authorization has been denied for this request."})
        elif parts.path == "/api/account":
            self._reply(200, {"id": 48213, "company_name": "Example Garden Supplies Ltd"})
        elif parts.path == "/api/account/balance":
            self._reply(200, {"email": 1200, "sms": 40})
        elif parts.path == "/api/groups":
            page, limit = int(query.get("Page", "1")), int(query.get("Limit", "100"))
            self._reply(200, GROUPS[(page - 1) * limit: page * limit])
        else:
            self._reply(404, {"Message": f"No HTTP resource was found for {parts.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.headers.get("Authorization") != TOKEN:
            self._reply(401, {"Message": "Authorization has been denied for this request."})
        elif urlsplit(self.path).path == "/api/webhooks" and body.get("url"):
            hook = {"id": 9000 + len(HOOKS) + 1, **body}
            HOOKS[str(hook["id"])] = hook
            self._reply(200, hook)
        else:
            self._reply(400, {"Message": "a webhook needs a url"})

    def do_DELETE(self) -> None:
        path = urlsplit(self.path).path
        if self.headers.get("Authorization") != TOKEN:
            self._reply(401, {"Message": "Authorization has been denied for this request."})
        elif path.startswith("/api/webhooks/") and HOOKS.pop(path.rsplit("/", 1)[1], None):
            self._reply(200, {"Message": "deleted"})
        else:
            self._reply(404, {"Message": f"No webhook at {path}"})

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
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
