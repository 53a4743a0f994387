"""Personalized textareas: cases in personalize.yaml, and `run --contacts` with contacts whose
fieldValues come in the v3 API's list shape (the published Twilio config)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_twilio import FakeTwilio

from manifest_runtime.cli import main
from manifest_runtime.pipeline.personalize import personalize
from manifest_runtime.state import Setup, StateFile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = yaml.safe_load((HERE / "personalize.yaml").read_text(encoding="utf-8"))
PERSTAGS = {"COMPANY": "1", "BIRTHDAY": "2"}
TWILIO = str(ROOT / "examples/twilio-sms/manifest.json")
USER, PASSWORD = "AC123", "tw-SECRET-pass"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_personalize(case: dict[str, Any]) -> None:
    custom_data = {"message": {"value": case["text"], "display": case["text"]},
                   "other": {"value": "%FIRSTNAME%", "display": "%FIRSTNAME%"}}
    out = personalize(custom_data, frozenset({"message"}), case["contact"], PERSTAGS)
    assert out["message"] == {"value": case["output"], "display": case["output"]}
    assert out["other"] == custom_data["other"]  # not personalized: as written


def test_run_fills_custom_field_tags_from_either_fieldvalues_shape(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with StateFile(str(tmp_path / "state.db")) as state:
        state.save_setup(Setup(
            "twilio-send-a-message",
            custom_data={"sub_account": {"value": USER, "display": "Main"},
                         "phone_number": {"value": "+15550001", "display": "Main line"},
                         "message": {"value": "Hi %FIRSTNAME% from %COMPANY%!",
                                     "display": ""}},
            credentials={"username": USER, "password": PASSWORD}))
    contacts = tmp_path / "contacts.jsonl"
    contacts.write_text("".join(json.dumps(c) + "\n" for c in [
        {"email": "a@x.test", "firstName": "Ada", "phone": "+1555",
         "fieldValues": {"1": "Acme"}},
        {"email": "b@x.test", "firstName": "Bo", "phone": "+1666",
         "fieldValues": [{"field": "1", "value": "Beta"}]},
    ]))
    with FakeTwilio(USER, PASSWORD) as twilio:
        code = main(["run", TWILIO, "--contacts", str(contacts), "--state",
                     str(tmp_path / "state.db"), "--remap", f"https://api.twilio.com={twilio.url}"])
        bodies = sorted(m["Body"] for m in twilio.messages)
    assert code == 0, capsys.readouterr().err
    assert bodies == ["Hi Ada from Acme!", "Hi Bo from Beta!"]
