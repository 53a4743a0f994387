"""Shared helpers for the HTTP layer tests: manifests, a fake clock, and a leak guard.

Every secret used in these tests contains the marker "SECRET"; the `harness` fixture checks,
after each test, that the marker appears in no trace event, no captured error and no cassette,
and neither does the Basic header form of USERNAME:PASSWORD. The username is not a secret (see
redact.py) and deliberately has no marker: it may appear in the output.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from manifest_runtime.compile import load_and_compile
from manifest_runtime.errors import ManifestRuntimeError
from manifest_runtime.http.client import HttpClient
from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.trace import TraceEvent
from manifest_runtime.model import CompiledManifest

MARKER = "SECRET"
TOKEN = "tok-SECRET-1111"
USERNAME = "user-2222"  # not a secret: no marker
PASSWORD = "pw-SECRET-3333"
ACCESS = "acc-SECRET-4444"
REFRESH = "ref-SECRET-5555"
NEW_ACCESS = "acc-SECRET-NEW6"
NEW_REFRESH = "ref-SECRET-NEW7"
SESSION = "sess-SECRET-8888"
CLIENT_SECRET = "cs-SECRET-9999"
# every secret above: each must carry the marker for the leak guard to see it
SECRETS = (TOKEN, PASSWORD, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, SESSION, CLIENT_SECRET)
# secrets in a form without the marker, looked for literally
BASIC_PAIR = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode("ascii")

Handler = Callable[[httpx.Request], httpx.Response]


def manifest(auth: dict[str, Any], api: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "$version": "2",
        "auth": {"main": auth},
        "api": api or {"base_url": "https://api.example.com"},
        "workflows": [],
    }


class FakeClock:
    """Epoch seconds that only move when slept on (or advanced by the test)."""

    def __init__(self, start: float = 1_900_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.clock = FakeClock()
        self.events: list[TraceEvent] = []
        self.errors: list[str] = []
        self.texts: list[str] = []
        self.requests: list[httpx.Request] = []
        self.clients: list[HttpClient] = []

    def compile(self, data: dict[str, Any]) -> CompiledManifest:
        file = self.tmp_path / "manifests" / f"m{len(self.clients)}.json"
        file.parent.mkdir(exist_ok=True)
        file.write_text(json.dumps(data), encoding="utf-8")
        return load_and_compile(str(file))

    def client(self, data: dict[str, Any], handler: Handler | None = None,
               credentials: Credentials | None = None, **options: Any) -> HttpClient:
        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            assert handler is not None, "no network in tests"
            return handler(request)

        options.setdefault("clock", self.clock)
        options.setdefault("sleep", self.clock.sleep)
        options.setdefault("trace", self.events.append)
        client = HttpClient(self.compile(data), "main", credentials=credentials,
                            transport=httpx.MockTransport(record), **options)
        self.clients.append(client)
        return client

    def error(self, call: Callable[[], Any]) -> ManifestRuntimeError:
        """Run `call`, expecting a ManifestRuntimeError; its text joins the leak check."""
        with pytest.raises(ManifestRuntimeError) as info:
            call()
        d = info.value.diagnostic
        self.errors.append(f"{d.message} {d.hint}")
        return info.value

    def outputs(self) -> list[str]:
        texts = [json.dumps(e.as_json()) for e in self.events] + self.errors + self.texts
        texts += [p.read_text(encoding="utf-8") for p in self.tmp_path.glob("*.yaml")]
        return texts

    def assert_no_secrets(self) -> None:
        for text in self.outputs():
            assert MARKER not in text, f"a credential leaked: {text[:500]}"
            assert BASIC_PAIR not in text, f"a Basic credential leaked: {text[:500]}"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None
                  ) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)
