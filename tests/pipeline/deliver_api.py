"""A local receiving API for run tests (real loopback HTTP): POST /deliver records the JSON
body (and its headers in `headers`), after `delay` seconds; an email listed in `fail` gets
HTTP 500. With a `gate`, each request waits for it to open (`arrived` counts the requests
come in so far): a test holds a run mid-way, whatever the machine's load."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import Loopback, QuietHandler


@dataclass
class DeliverApi(Loopback):
    delay: float = 0.0
    fail: set[str] = field(default_factory=set)
    received: list[Any] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    gate: threading.Event | None = None
    arrived: int = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self
        lock = threading.Lock()

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.json_body()
                with lock:
                    api.arrived += 1
                if api.gate is not None:
                    api.gate.wait(60)
                time.sleep(api.delay)
                if body.get("email") in api.fail:
                    self.reply(500, {"error": "boom"})
                    return
                with lock:
                    api.received.append(body)
                    api.headers.append({k.lower(): v for k, v in self.headers.items()})
                self.reply(201, {"ok": True})

        return Handler
