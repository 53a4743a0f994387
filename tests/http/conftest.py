"""Fixtures for the HTTP layer tests (helpers live in http_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from http_helpers import Harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    for client in h.clients:
        client.close()
    h.assert_no_secrets()

