"""Fixtures for the setup tests: the ActiveTrail example's fake API over real loopback HTTP."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from manifest_runtime.http.credentials import ENV_VARS

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "activetrail-contacts"


@pytest.fixture
def activetrail_api() -> Iterator[str]:
    """examples/activetrail-contacts/fake_api.py on a free port; yields its base URL (it
    accepts the token "demo-token")."""
    spec = importlib.util.spec_from_file_location("activetrail_fake_api",
                                                  EXAMPLE / "fake_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = ThreadingHTTPServer(("127.0.0.1", 0), module.Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_credential_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """MANIFEST_RUNTIME_TOKEN etc. from the developer's shell never leak into a test."""
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
