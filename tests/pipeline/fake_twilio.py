"""A local stand-in for Twilio's Messages endpoint (real loopback HTTP): checks Basic auth,
records every message, and answers 502 for a `To` number listed in `fail_to`."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeTwilio:
    username: str
    password: str
    fail_to: set[str] = field(default_factory=set)
    messages: list[dict[str, str]] = field(default_factory=list)

    def __enter__(self) -> FakeTwilio:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                expected = "Basic " + base64.b64encode(
                    f"{api.username}:{api.password}".encode()).decode()
                path = urlsplit(self.path).path
                if self.headers.get("Authorization") != expected:
                    self._reply(401, {"message": "Authenticate"})
                elif not path.endswith("/Messages.json"):
                    self._reply(404, {"message": "not found"})
                elif form.get("To") in api.fail_to:
                    self._reply(502, {"message": "bad gateway"})
                else:
                    api.messages.append(form)
                    self._reply(201, {"sid": f"SM{len(api.messages)}", "status": "queued"})

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"
