"""A local stand-in for Twilio's Messages endpoint (real loopback HTTP): checks Basic auth,
records every message, and answers 502 for a `To` number listed in `fail_to`."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from loopback import Loopback, QuietHandler


@dataclass
class FakeTwilio(Loopback):
    username: str
    password: str
    fail_to: set[str] = field(default_factory=set)
    messages: list[dict[str, str]] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()
                                               ).decode()

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                form = {k: v[-1] for k, v in parse_qs(self.raw_body().decode()).items()}
                if self.headers.get("Authorization") != expected:
                    self.reply(401, {"message": "Authenticate"})
                elif not urlsplit(self.path).path.endswith("/Messages.json"):
                    self.reply(404, {"message": "not found"})
                elif form.get("To") in api.fail_to:
                    self.reply(502, {"message": "bad gateway"})
                else:
                    api.messages.append(form)
                    self.reply(201, {"sid": f"SM{len(api.messages)}", "status": "queued"})

        return Handler
