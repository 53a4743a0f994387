"""A studio app over a manifest, served by uvicorn on 127.0.0.1 (a port the system picks) in
a thread, with the command line's own services (cli/studio.py); httpx calls the same
endpoints the page calls."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from manifest_runtime.cli import build_parser
from manifest_runtime.cli.studio import services
from manifest_runtime.studio.app import Studio

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/activetrail-contacts"
WORKFLOW = "activetrail-member-to-contact"

Open = Callable[..., tuple[Studio, httpx.Client]]


@contextmanager
def running(studio: Studio) -> Iterator[str]:
    """Serve `studio` until the block ends; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    config = uvicorn.Config(studio.app(), lifespan="off", log_level="warning",
                            access_log=False, loop="asyncio", http="h11", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the studio server did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        studio.close()


def make_studio(manifest: Path, state: Path, *options: str) -> Studio:
    args = build_parser().parse_args(["studio", str(manifest), "--state", str(state),
                                      *options])
    return Studio(args.manifest, services(args))


@pytest.fixture
def open_studio(tmp_path: Path) -> Iterator[Open]:
    stack: list[tuple[Iterator[str], httpx.Client]] = []

    def start(manifest: Path, *options: str, state: Path | None = None
              ) -> tuple[Studio, httpx.Client]:
        studio = make_studio(manifest, state or tmp_path / "studio.db", *options)
        served = running(studio)
        url = served.__enter__()
        client = httpx.Client(base_url=url, timeout=60)
        stack.append((served, client))
        return studio, client

    yield start
    for served, client in stack:
        client.close()
        served.__exit__(None, None, None)  # type: ignore[attr-defined]


# -- the browser test's screenshots ------------------------------------------------------------

def shots_dir() -> Path:
    """Where the browser test keeps its screenshots (git-ignored): test-artifacts/studio/, or
    $MANIFEST_RUNTIME_ARTIFACTS/studio/."""
    import os

    base = os.environ.get("MANIFEST_RUNTIME_ARTIFACTS")
    return (Path(base) if base else ROOT / "test-artifacts") / "studio"


SHOTS_TAKEN: list[Path] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SHOTS_TAKEN:
        terminalreporter.write_line(f"studio browser test: {len(SHOTS_TAKEN)} screenshots in "
                                    f"{shots_dir()}/")
