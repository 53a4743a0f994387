from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pgcluster  # tests/pgcluster.py
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


# ---------------------------------------------------------------------- PostgreSQL state


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[pgcluster.Cluster]:
    """One throwaway PostgreSQL cluster for the session (tests/pgcluster.py). Skipped when
    the server binaries or psycopg are missing, unless $MANIFEST_RUNTIME_REQUIRE_POSTGRES is
    set (CI): then that is a failure."""
    required = bool(os.environ.get(pgcluster.REQUIRE))
    try:
        import psycopg  # noqa: F401

        cluster = pgcluster.start()
    except (ImportError, FileNotFoundError, RuntimeError) as exc:
        if required:
            pytest.fail(f"PostgreSQL is required (${pgcluster.REQUIRE}) but: {exc}")
        pytest.skip(f"no PostgreSQL server to test against: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: pgcluster.Cluster) -> str:
    """The URL of a fresh, empty state on the session's cluster (a schema of its own)."""
    return postgres_cluster.new_schema()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A state on each backend, as `--state` and StateFile take it: a new SQLite file of the
    test, or a fresh PostgreSQL state's URL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return str(tmp_path / "state.db")


@pytest.fixture(params=["sqlite", "postgresql"])
def state_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test on each state backend: the test's SQLite file (as every test has), or a
    fresh PostgreSQL state, as $MANIFEST_RUNTIME_STATE (what --state defaults to)."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("MANIFEST_RUNTIME_STATE", url)
    return str(request.param)
