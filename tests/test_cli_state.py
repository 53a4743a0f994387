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
    assert "dead letters: 1" in out and "record 1 at transform: no-email" in out

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
