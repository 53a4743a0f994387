"""`manifest-runtime state show`: setups with secrets masked, saved data, dead letters."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from manifest_runtime.cli import main
from manifest_runtime.state import Setup, StateFile

ROOT = Path(__file__).resolve().parent.parent
AT = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
SECRET = "tok-SECRET-state"


@pytest.mark.usefixtures("state_backend")
def test_state_show_masks_secrets_and_lists_dead_letters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        state.save_setup(Setup(
            "activetrail-member-to-contact",
            connection={"account_id": "48213", "description": "Example"},
            custom_data={"group": {"value": "1001", "display": "Group 1"}},
            mapping={"email": "email"},
            credentials={"token": SECRET, "subdomain": "acme"}))
        state.store.merge("workflow", {"webhook_id": 77})
    payloads = tmp_path / "in.jsonl"
    payloads.write_text('{"member": {"first_name": "X"}}\n{"member": {"email": "a@b.c"}}\n')
    assert main(["run", AT, "--input", str(payloads)]) == 1
    capsys.readouterr()

    assert main(["state", "show"]) == 0
    out = capsys.readouterr().out
    assert "connection: Example (account 48213)" in out
    assert "group: Group 1 (1001)" in out and "map email -> email" in out
    assert "credentials: subdomain=acme, token=***" in out
    assert 'saved data (workflow): {"webhook_id": 77}' in out
    assert "dead letters: 1 (by error code" in out
    assert "activetrail-member-to-contact no-email at transform: 1 (record 1): " in out

    assert main(["state", "show", "--format", "json"]) == 0
    raw = capsys.readouterr().out
    report = json.loads(raw)
    assert report["setups"][0]["credentials"] == {"token": "***", "subdomain": "acme"}
    assert [d["record"] for d in report["dead_letters"]] == [1]
    assert SECRET not in out + raw

    assert main(["state", "show", "--workflow", "other"]) == 0
    assert "no setups" in capsys.readouterr().out


def test_state_show_without_a_state_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "show", "--state", str(tmp_path / "none.db")]) == 2
    assert "no state file" in capsys.readouterr().err


OTHER_SECRET = "pw-SECRET-other"
ENV_SECRET = "env-SECRET-token"


@pytest.mark.usefixtures("state_backend")
def test_state_show_masks_secret_values_wherever_they_are_echoed(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only the credentials key: a connection description, an answer, saved data (also of
    another workflow's secret, and the Basic header form of a username:password pair) and
    values from the credential environment variables are masked, in text and in JSON."""
    import base64

    monkeypatch.setenv("MANIFEST_RUNTIME_TOKEN", ENV_SECRET)
    basic = base64.b64encode(f"AC123:{OTHER_SECRET}".encode()).decode()
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        state.save_setup(Setup(
            "activetrail-member-to-contact",
            connection={"account_id": "48213", "description": f"Example ({SECRET})"},
            custom_data={"note": {"value": f"key={SECRET}", "display": f"key={SECRET}"}},
            mapping={"$pairs": [{"source": "email", "target": "email",
                                 "target_group": "contact"},
                                {"source": "address.city", "target": "city"}]},
            credentials={"token": SECRET}))
        state.save_setup(Setup("twilio", credentials={"username": "AC123",
                                                      "password": OTHER_SECRET}))
        state.store.merge("connection", {"echo": f"Bearer {SECRET}", "auth": f"Basic {basic}",
                                         "list": [OTHER_SECRET, ENV_SECRET]})
    for fmt in ("text", "json"):
        assert main(["state", "show", "--workflow", "activetrail-member-to-contact",
                     "--format", fmt]) == 0
        out = capsys.readouterr().out
        for secret in (SECRET, OTHER_SECRET, ENV_SECRET, basic):
            assert secret not in out, (fmt, secret)
        if fmt == "text":
            assert "connection: Example (***) (account 48213)" in out
            assert "note: key=***" in out
            assert "map email -> email (group contact)" in out
            assert "map address.city -> city" in out
            assert '"echo": "Bearer ***"' in out and '"auth": "Basic ***"' in out
        else:
            report = json.loads(out)
            setup = report["setups"][0]
            assert setup["connection"]["description"] == "Example (***)"
            assert setup["credentials"] == {"token": "***"}
            assert setup["mapping"]["$pairs"][0]["target_group"] == "contact"
            assert report["saved_data"]["connection"]["list"] == ["***", "***"]


def test_another_programs_sqlite_file_is_refused(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    foreign = tmp_path / "app.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE setups (a, b)")
        db.execute("CREATE TABLE users (x)")
    assert main(["state", "show", "--state", str(foreign)]) == 2
    assert "a SQLite file of another program (users)" in capsys.readouterr().err


@pytest.mark.usefixtures("state_backend")
def test_a_damaged_setup_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        state.save_setup(Setup("w"))
        state.db.execute("UPDATE setups SET data = ? WHERE workflow = 'w'",
                         (json.dumps({"workflow": "w", "custom_data": [1]}),))
        state.db.commit()
    assert main(["state", "show"]) == 2
    assert "the saved setup of workflow 'w' is damaged (custom_data is a list)" in \
        capsys.readouterr().err


def test_the_state_file_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    """It holds credentials: 0600 when created (whatever the umask), and an older 0644 file
    is narrowed when opened (issue 12)."""
    import stat

    old = os.umask(0o022)
    try:
        path = tmp_path / "state.db"
        with StateFile(str(path)) as state:
            state.store.merge("workflow", {"k": "v"})
            names = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(p.exists() for p in names)
            assert [stat.S_IMODE(p.stat().st_mode) for p in names] == [0o600] * 3
        os.chmod(path, 0o644)
        StateFile(str(path)).close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


HISTORICAL = str(ROOT / "tests/pipeline/historical.yaml")


@pytest.mark.usefixtures("state_backend")
def test_state_show_lists_everything_design_5_names(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """polling_state per workflow, the historical import, webhook registrations and journal
    counts, dead letters grouped by code with long errors cut; secrets masked everywhere."""
    from manifest_runtime.intake.journal import WebhookJournal

    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        state.save_setup(Setup("historical-sync", mapping={"email": "email"},
                               credentials={"token": SECRET}))
        state.save_setup(Setup("activetrail-member-to-contact", mapping={"email": "email"},
                               custom_data={"group": {"value": "1001", "display": "G"}}))
        journal = WebhookJournal(state.db, state.lock)
        journal.registered("historical-sync", "webhook",
                           f"http://127.0.0.1:8000/webhooks/historical-sync?k={SECRET}")
        for outcome, delivered, failed in (("delivered", 1, 0), ("delivered", 1, 0),
                                           ("failed", 0, 1), ("ignored", 0, 0)):
            number = journal.received("historical-sync", "webhook", "POST")
            journal.finish(number, outcome, 200, delivered=delivered, failed=failed)
    assert main(["poll", HISTORICAL]) == 0  # 14 records, then the import is complete
    payloads = tmp_path / "in.jsonl"
    long_name = "x" * 300
    payloads.write_text("".join(f'{{"member": {{"first_name": "{long_name}"}}}}\n'
                                for _ in range(3)) + "not json\n")
    assert main(["run", AT, "--input", str(payloads)]) == 1
    capsys.readouterr()

    assert main(["state", "show"]) == 0
    out = capsys.readouterr().out
    assert "polling state:\n  historical-sync: {\"iterations\": 15} (updated " in out
    assert "historical-sync (historical-sync): completed " in out
    assert "14 request(s), 14 result(s); stopped: iterate is false" in out
    assert "historical-sync (webhook): http://127.0.0.1:8000/webhooks/historical-sync?k=***" \
        in out
    assert "historical-sync: 4 received (delivered 2, failed 1, ignored 1); 2 record(s) " \
        "delivered, 1 failed" in out
    assert "dead letters: 4 (by error code" in out
    lines = [line for line in out.splitlines() if line.startswith("  activetrail")]
    assert len(lines) == 2  # one line per code
    assert lines[0].startswith("  activetrail-member-to-contact no-email at transform: 3 "
                               "(record 1, 2, 3): ")
    assert lines[1].startswith("  activetrail-member-to-contact record-not-json at read: 1 "
                               "(record 4): ")
    assert all(len(line) < 220 for line in lines) and lines[0].endswith("...")
    assert SECRET not in out

    assert main(["state", "show", "--format", "json", "--workflow", "historical-sync"]) == 0
    raw = capsys.readouterr().out
    report = json.loads(raw)
    assert report["polling_state"]["historical-sync"]["polling_state"] == {"iterations": 15}
    assert report["historical_imports"]["historical-sync"]["status"] == "completed"
    assert report["webhook_registrations"][0]["url"].endswith("?k=***")
    assert report["webhook_journal"]["historical-sync"]["outcomes"] == \
        {"delivered": 2, "failed": 1, "ignored": 1}
    assert report["dead_letters"] == [] and report["dead_letter_codes"] == []
    assert SECRET not in raw
