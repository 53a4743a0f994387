from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite golden expected files from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def _state_file_per_test(tmp_path_factory: pytest.TempPathFactory,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands that evaluate default to a state file; each test gets its own, so nothing
    is shared between tests or written into the checkout."""
    state = tmp_path_factory.mktemp("state") / "state.db"
    monkeypatch.setenv("MANIFEST_RUNTIME_STATE", str(state))


@pytest.fixture(autouse=True)
def _jq_verdict_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The jq verdict cache (jqverdicts.py) of the tests: one directory for the session,
    never the user's own cache."""
    monkeypatch.setenv("MANIFEST_RUNTIME_CACHE_DIR",
                       str(tmp_path_factory.getbasetemp() / "jq-verdicts"))
