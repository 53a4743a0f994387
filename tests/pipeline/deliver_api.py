"""A local receiving API for run tests (real loopback HTTP): POST /deliver records the JSON
body, after `delay` seconds; an email listed in `fail` gets HTTP 500."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class DeliverApi:
    delay: float = 0.0
    fail: set[str] = field(default_factory=set)
    received: list[Any] = field(default_factory=list)

    def __enter__(self) -> DeliverApi:
        api = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                time.sleep(api.delay)
                if body.get("email") in api.fail:
                    status, answer = 500, {"error": "boom"}
                else:
                    with lock:
                        api.received.append(body)
                    status, answer = 201, {"ok": True}
                data = json.dumps(answer).encode()
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
