"""A workflow's historical_data_intake runs once per setup (reference §4.3, issue 13.3):
`poll` after a completed import does nothing; `poll --reset` and a new `setup` run it again;
an import cut short goes on from its polling_state. The reference's own example."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import Loopback, QuietHandler

from manifest_runtime.cli import main
from manifest_runtime.pipeline.polling import HistoricalImports
from manifest_runtime.state import Setup, StateFile

pytestmark = pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL (conftest.py)

MANIFEST = str(Path(__file__).parent / "historical.yaml")
WORKFLOW = "historical-sync"
RECORDS = [f"historical_record{i}@mailserver.testing" for i in range(1, 15)]


def contacts(capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["sandbox", "contacts", "--format", "json"]) == 0
    return sorted(c["email"] for c in json.loads(capsys.readouterr().out))


def seed() -> None:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.save_setup(Setup(WORKFLOW, mapping={"email": "email", "first_name": "firstName"},
                           credentials={"token": "key"}))


def poll(capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["poll", MANIFEST, *options])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out


def imported() -> dict[str, object] | None:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        found = HistoricalImports(s.db, s.lock).get(WORKFLOW)
    return None if found is None else found.as_json()


def test_the_historical_import_runs_once_until_reset(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    seed()
    code, out = poll(capsys)
    assert code == 0
    assert "14 request(s), read 14, delivered 14, failed 0; stopped: iterate is false" in out
    assert contacts(capsys) == sorted(RECORDS)
    status = imported()
    assert status is not None and status["status"] == "completed"
    assert (status["requests"], status["results"]) == (14, 14)
    code, out = poll(capsys)  # again: nothing is imported (no historical_record15)
    assert code == 0 and "the historical import ran already (14 result(s)" in out
    assert "historical_record15@mailserver.testing" not in contacts(capsys)
    code, out = poll(capsys, "--reset")
    assert code == 0 and "14 request(s), read 14" in out
    assert contacts(capsys) == sorted(RECORDS)  # the same 14 again (upserted), not a 15th


@pytest.fixture
def verify_api() -> Iterator[str]:
    class Api(Loopback):
        def handler(self) -> type[BaseHTTPRequestHandler]:
            class Handler(QuietHandler):
                def do_GET(self) -> None:
                    self.reply(200 if self.headers.get("X-Api-Key") == "key" else 401, {})

            return Handler

    with Api() as api:
        yield api.url


def test_a_new_setup_imports_again(capsys: pytest.CaptureFixture[str], verify_api: str,
                                   tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("credentials: {token: key}\nmapping: {email: email}\n", encoding="utf-8")
    setup = ["setup", MANIFEST, "--answers", str(answers),
             "--remap", f"https://api.your-company.com={verify_api}"]
    assert main(setup) == 0
    assert "historical import: 'historical-sync' runs once on the next" in \
        capsys.readouterr().out
    assert poll(capsys)[0] == 0
    assert "ran already" in poll(capsys)[1]
    assert main(setup) == 0
    code, out = poll(capsys)
    assert code == 0 and "14 request(s), read 14" in out


def test_an_import_cut_short_goes_on_from_its_state(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    seed()
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:  # as if stopped after 10
        s.mark_polling_initialised(WORKFLOW)
        s.save_polling_state(WORKFLOW, {"iterations": 11})
        HistoricalImports(s.db, s.lock).started(WORKFLOW, "historical-sync")
    status = imported()
    assert status is not None and status["status"] == "started, not completed"
    code, out = poll(capsys)
    assert code == 0 and "4 request(s), read 4" in out  # records 11 to 14
    assert contacts(capsys) == sorted(RECORDS[10:])
