"""The fake ActiveCampaign account, and runs that do not wait on its rate limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_ac import TOKEN, FakeActiveCampaign

from manifest_runtime.activecampaign import v3


@pytest.fixture
def fake_ac() -> Iterator[FakeActiveCampaign]:
    with FakeActiveCampaign(TOKEN) as fake:
        yield fake


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs through the CLI without ActiveCampaign's 5 requests/s (test_v3_client.py checks
    the limit itself with a fake clock)."""
    monkeypatch.setattr(v3, "REQUESTS_PER_SECOND", 1000)
