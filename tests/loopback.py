"""The tests' fake APIs run on real loopback HTTP (stdlib ThreadingHTTPServer on 127.0.0.1,
port chosen by the system). `Loopback` starts and stops one; `QuietHandler` is the base of
their request handlers: keep-alive, no Nagle delay, no logging, JSON in and out."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def raw_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def json_body(self) -> Any:
        raw = self.raw_body()
        return json.loads(raw) if raw else None

    def reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None
              ) -> None:
        """Answer with `body` as JSON (no body for None); a client that went away is fine."""
        data = b"" if body is None else json.dumps(body).encode()
        try:
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (its timeout passed)
            self.close_connection = True


class Loopback:
    """A server for `handler()` (defined by subclasses) while inside `with`."""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self._server.daemon_threads = True
        # a short poll: shutdown() waits for it (the default 0.5 s costs every test that much)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"
