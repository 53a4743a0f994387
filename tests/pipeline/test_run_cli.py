"""`manifest-runtime run`: records end delivered or dead-lettered, runs resume, the mapping
and personalization apply, and the published Twilio config delivers over real HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fake_twilio import FakeTwilio

from manifest_runtime.cli import main
from manifest_runtime.pipeline.journal import Journal
from manifest_runtime.state import Setup, StateFile

pytestmark = pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL (conftest.py)

ROOT = Path(__file__).resolve().parents[2]
AT = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
TWILIO = str(ROOT / "examples/twilio-sms/manifest.json")
AT_SETUP = Setup(
    "activetrail-member-to-contact",
    custom_data={"group": {"value": "1001", "display": "Group 1"},
                 "tag": {"value": "vip", "display": "vip"}},
    mapping={"email": "email", "first_name": "firstName", "last_name": "lastName"},
    selection={"resource_id": "1001", "display": "Group 1"})
TWILIO_USER, TWILIO_PASSWORD = "AC123", "tw-SECRET-pass"
TWILIO_SETUP = Setup(
    "twilio-send-a-message",
    custom_data={"sub_account": {"value": TWILIO_USER, "display": "Main"},
                 "phone_number": {"value": "+15550001", "display": "Main line"},
                 "message": {"value": "Hi %FIRSTNAME% from %COMPANY%!", "display": ""}},
    credentials={"username": TWILIO_USER, "password": TWILIO_PASSWORD})
PAYLOADS = [
    {"member": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}},
    {"member": {"email": "bo@example.com", "first_name": "Bo"}},
    "not json",
    {"member": {"first_name": "NoEmail"}},
    {"member": {"email": "cy@example.com", "last_name": "Young"}},
]


def state() -> StateFile:
    return StateFile(os.environ["MANIFEST_RUNTIME_STATE"])


def seed(*setups: Setup) -> None:
    with state() as s:
        for setup in setups:
            s.save_setup(setup)


def jsonl(path: Path, rows: list[Any]) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def sandbox_contacts(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["sandbox", "contacts", "--format", "json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


def test_inbound_records_end_delivered_or_dead_lettered(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(AT_SETUP)
    payloads = jsonl(tmp_path / "in.jsonl", PAYLOADS)
    dead_file = tmp_path / "dead.jsonl"
    assert main(["run", AT, "--input", payloads, "--dead-letter", str(dead_file)]) == 1
    out = capsys.readouterr().out
    assert "read 5, delivered 3, failed 2" in out
    dead = [json.loads(line) for line in dead_file.read_text().splitlines()]
    assert [(d["record"], d["stage"], d["code"]) for d in dead] == [
        (3, "read", "record-not-json"), (4, "transform", "no-email")]
    assert dead[1]["input"] == PAYLOADS[3]
    with state() as s:
        assert [(d.record_no, d.stage) for d in Journal(s.db, s.lock).dead_letters()] == \
            [(3, "read"), (4, "transform")]
    contacts = sandbox_contacts(capsys)
    assert [c["email"] for c in contacts] == ["ada@example.com", "bo@example.com",
                                              "cy@example.com"]
    assert contacts[0]["firstName"] == "Ada" and contacts[0]["tags"] == ["activetrail", "vip"]
    assert "sms" not in contacts[0]  # unmapped keys are dropped


def test_a_run_resumes_where_it_stopped_and_restart_runs_again(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(AT_SETUP)
    payloads = jsonl(tmp_path / "in.jsonl", [PAYLOADS[0], PAYLOADS[1], PAYLOADS[4]])
    assert main(["run", AT, "--input", payloads, "--limit", "2"]) == 0  # "interrupted"
    assert "read 2, delivered 2" in capsys.readouterr().out
    assert main(["run", AT, "--input", payloads]) == 0
    out = capsys.readouterr().out
    assert "read 3, delivered 1" in out and "2 of them skipped, done in an earlier run" in out
    assert main(["run", AT, "--input", payloads, "--restart"]) == 0
    assert "read 3, delivered 3" in capsys.readouterr().out
    assert len(sandbox_contacts(capsys)) == 3  # upserts by email: no duplicate contacts


def test_dry_run_prints_transformed_records_and_delivers_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(AT_SETUP)
    payloads = jsonl(tmp_path / "in.jsonl", PAYLOADS[:2])
    assert main(["run", AT, "--input", payloads, "--dry-run"]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert records[0] == {"email": "ada@example.com", "firstName": "Ada",
                          "lastName": "Lovelace", "_tags": ["activetrail", "vip"]}
    assert "transformed 2" in captured.err
    assert sandbox_contacts(capsys) == []
    assert main(["run", AT, "--input", payloads]) == 0  # a dry run is not journaled
    assert "delivered 2" in capsys.readouterr().out


def test_stdin_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                     ) -> None:
    import io

    seed(AT_SETUP)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(PAYLOADS[0]) + "\n"))
    assert main(["run", AT, "--input", "-"]) == 0
    assert "read 1, delivered 1" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "says"), [
    (["--input", "missing.jsonl"], "cannot read it"),
    (["--contacts", "x.jsonl"], "inbound workflow"),
    ([], "give the webhook payloads with --input"),
    (["--workflow", "nope", "--input", "x"], "no workflow 'nope'"),
])
def test_usage_errors(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(AT_SETUP)
    assert main(["run", AT, *argv]) == 2
    assert says in capsys.readouterr().err


def test_without_setup_it_says_to_run_setup(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", AT, "--input", jsonl(tmp_path / "i.jsonl", PAYLOADS[:1])]) == 2
    err = capsys.readouterr().err
    assert "manifest-runtime setup" in err and "--workflow activetrail-member-to-contact" in err


def test_published_twilio_config_sends_personalized_messages(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Outbound: each contact goes through the unchanged published config; the target POSTs
    form-encoded to Twilio with Basic auth from the stored credentials; %FIRSTNAME% and the
    custom field tag %COMPANY% are filled per contact; a 502 is not retried for a POST and
    the record is dead-lettered; no secret is printed."""
    seed(TWILIO_SETUP)
    contacts = jsonl(tmp_path / "contacts.jsonl", [
        {"email": "ada@example.com", "firstName": "Ada", "phone": "+15550100",
         "fieldValues": {"1": "Engines Ltd"}},
        {"email": "bo@example.com", "firstName": "Bo", "phone": "+15550199"},
        {"email": "cy@example.com", "firstName": "Cy", "phone": "+15550102"},
    ])
    with FakeTwilio(TWILIO_USER, TWILIO_PASSWORD, fail_to={"+15550199"}) as twilio:
        code = main(["run", TWILIO, "--contacts", contacts, "--concurrency", "2",
                     "--remap", f"https://api.twilio.com={twilio.url}"])
        messages = sorted(twilio.messages, key=lambda m: m["To"])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "read 3, delivered 2, failed 1" in captured.out
    assert messages == [
        {"To": "+15550100", "From": "+15550001", "Body": "Hi Ada from Engines Ltd!"},
        {"To": "+15550102", "From": "+15550001", "Body": "Hi Cy from !"},
    ]
    with state() as s:
        (dead,) = Journal(s.db, s.lock).dead_letters()
    assert (dead.record_no, dead.stage, dead.code) == (2, "target", "http-status")
    assert "502" in dead.message and "--retry-unsafe" in (dead.hint or "")
    assert TWILIO_PASSWORD not in captured.out + captured.err + dead.message
