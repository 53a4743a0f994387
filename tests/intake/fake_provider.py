"""A provider's webhook registration API on real loopback HTTP, for serve tests:
POST /api/hooks {url, ...} -> 201 {"id": "hook-N"}; DELETE /api/hooks/<id> -> 204 (404 for
an unknown id); PATCH /api/hooks/<id> {...} -> 200 (updates it). Every call is recorded; a
wrong X-Api-Key gets 401. With `slow` set, a POST makes the hook and then waits that many
seconds before answering (a client with a shorter timeout never learns the hook id)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import Loopback, QuietHandler

TOKEN = "key-SECRET"


@dataclass
class FakeProvider(Loopback):
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    hooks: dict[str, Any] = field(default_factory=dict)
    made: int = 0  # hooks created so far: ids are hook-1, hook-2, ...
    slow: float = 0.0  # seconds a POST waits after making the hook, before answering

    def handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self
        lock = threading.Lock()

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.json_body()
                with lock:
                    provider.calls.append(("POST", self.path, body))
                    if self.headers.get("X-Api-Key") != TOKEN:
                        return self.reply(401, {"error": "bad key"})
                    provider.made += 1
                    hook_id = f"hook-{provider.made}"
                    provider.hooks[hook_id] = body
                if provider.slow:
                    time.sleep(provider.slow)
                self.reply(201, {"id": hook_id})

            def do_PATCH(self) -> None:
                hook_id = self.path.rsplit("/", 1)[-1]
                body = self.json_body()
                with lock:
                    provider.calls.append(("PATCH", self.path, body))
                    known = hook_id in provider.hooks
                    if known:
                        provider.hooks[hook_id] = {**provider.hooks[hook_id], **body}
                self.reply(200 if known else 404, {"id": hook_id} if known else
                           {"error": "no hook"})

            def do_DELETE(self) -> None:
                hook_id = self.path.rsplit("/", 1)[-1]
                with lock:
                    provider.calls.append(("DELETE", self.path, None))
                    known = provider.hooks.pop(hook_id, None) is not None
                self.reply(204 if known else 404, None if known else {"error": "no hook"})

        return Handler
