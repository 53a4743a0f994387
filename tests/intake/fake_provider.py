"""A provider's webhook registration API on real loopback HTTP, for serve tests:
POST /api/hooks {url, ...} -> 201 {"id": "hook-N"}; DELETE /api/hooks/<id> -> 204 (404 for
an unknown id). Every call is recorded; a wrong X-Api-Key gets 401."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "key-SECRET"


@dataclass
class FakeProvider:
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    hooks: dict[str, Any] = field(default_factory=dict)
    made: int = 0  # hooks created so far: ids are hook-1, hook-2, ...

    def __enter__(self) -> FakeProvider:
        provider = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _answer(self, status: int, body: Any = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with lock:
                    provider.calls.append(("POST", self.path, body))
                    if self.headers.get("X-Api-Key") != TOKEN:
                        return self._answer(401, {"error": "bad key"})
                    provider.made += 1
                    hook_id = f"hook-{provider.made}"
                    provider.hooks[hook_id] = body
                self._answer(201, {"id": hook_id})

            def do_DELETE(self) -> None:
                hook_id = self.path.rsplit("/", 1)[-1]
                with lock:
                    provider.calls.append(("DELETE", self.path, None))
                    known = provider.hooks.pop(hook_id, None) is not None
                self._answer(204 if known else 404, None if known else {"error": "no hook"})

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
