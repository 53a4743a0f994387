"""Every bundled example (and ActiveCampaign's published config) validates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manifest_runtime.compile import load_and_compile

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = sorted(ROOT.glob("examples/*/manifest.*"))
PUBLISHED = ROOT.parent / "shared" / "reference" / "published" / "twilio-sms-outbound.json"


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.parent.name)
def test_example_is_valid(manifest: Path) -> None:
    compiled = load_and_compile(str(manifest))
    errors = [d for d in compiled.diagnostics if d.severity == "error"]
    assert errors == []


def test_bundled_twilio_is_the_published_config_unchanged() -> None:
    if not PUBLISHED.exists():
        pytest.skip("shared/ reference not beside the checkout")
    assert (ROOT / "examples/twilio-sms/manifest.json").read_bytes() == PUBLISHED.read_bytes()


def test_twilio_http_steps_read_the_body_where_their_programs_do() -> None:
    compiled = load_and_compile(str(ROOT / "examples/twilio-sms/manifest.json"))
    notes = {d.pointer: d.message for d in compiled.diagnostics if d.code == "http-output"}
    options = "/workflows/0/setup/select/form_fields/1/options/!pipe"
    assert notes[f"{options}/0"].startswith("!http output: body")
    assert notes[f"{options}/2"].startswith("!http output: body")
    target = "/workflows/0/data_pipeline/target/!pipe/1/!switch/cases/0"
    assert notes[target].startswith("!http output: wrapped")


def test_activetrail_cassette_replays_offline(capsys: pytest.CaptureFixture[str]) -> None:
    """The example's cassette answers its connect step and its paged group options (three
    pages: 100, 30, then an empty page ends the paging), with no credentials given."""
    from manifest_runtime.cli import main

    manifest = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
    cassette = str(ROOT / "examples/activetrail-contacts/cassette.yaml")
    connect = "/workflows/0/setup/connect/describe_connection"
    assert main(["eval", manifest, connect, "--replay", cassette]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "account_id": "48213", "description": "Example Garden Supplies Ltd"}
    options = "/workflows/0/setup/select/form_fields/0/options"
    assert main(["eval", manifest, options, "--replay", cassette, "--trace"]) == 0
    captured = capsys.readouterr()
    groups = json.loads(captured.out)
    assert len(groups) == 130 and groups[0] == {"display": "Group 1", "value": "1001"}
    assert captured.err.count("(replayed)") == 3


def test_twilio_setup_and_run_replay_offline(capsys: pytest.CaptureFixture[str]) -> None:
    """The published Twilio config end to end from its example's cassette (recorded against
    examples/twilio-sms/fake_api.py), with no credentials: setup checks the credentials and
    fetches the project and number/service options; run sends one personalized SMS per
    contact; the same run again skips them all. The published manifest is never written."""
    import subprocess

    from manifest_runtime.cli import main

    example = ROOT / "examples/twilio-sms"
    manifest, cassette = example / "manifest.json", str(example / "cassette.yaml")
    published = manifest.read_bytes()
    assert main(["setup", str(manifest), "--answers", str(example / "answers.yaml"),
                 "--replay", cassette]) == 0
    out = capsys.readouterr().out
    assert "credentials: verified: GET https://api.twilio.com/2010-04-01/Accounts.json" in out
    assert "Project: Spring Campaign (AC0b1d2e3f405162738495a6b7c8d9e0f1)" in out
    assert "Phone Number or Messaging Service: Spring promo line (+12025550173)" in out
    run = ["run", str(manifest), "--contacts", str(example / "contacts.jsonl"),
           "--replay", cassette]
    assert main(run) == 0
    assert "read 3, delivered 3" in capsys.readouterr().out
    assert main(run) == 0
    assert "read 3, delivered 0, failed 0; 3 of them skipped" in capsys.readouterr().out
    assert manifest.read_bytes() == published
    head = subprocess.run(["git", "show", "HEAD:examples/twilio-sms/manifest.json"],
                          cwd=ROOT, capture_output=True, check=False)
    if head.returncode == 0:
        assert published == head.stdout


def test_twilio_cassette_sends_the_personalized_messages_and_keeps_no_secret() -> None:
    """The cassette's three POSTs carry each contact's personalized Body, From the chosen
    number; the fake's demo Auth Token (and its Basic header) appears nowhere."""
    import base64

    import yaml

    example = ROOT / "examples/twilio-sms"
    text = (example / "cassette.yaml").read_text()
    pair = base64.b64encode(b"AC5ef8732a3c49700934481addd5ce1659:demo-twilio-auth-token")
    assert "demo-twilio-auth-token" not in text and pair.decode() not in text
    posts = [i["request"] for i in yaml.safe_load(text)["interactions"]
             if i["request"]["method"] == "POST"]
    contacts = [json.loads(line) for line in
                (example / "contacts.jsonl").read_text().splitlines()]
    message = yaml.safe_load((example / "answers.yaml").read_text())["custom_data"]["message"]
    assert [p["body"] for p in posts] == [
        {"To": c["phone"], "From": "+12025550173",
         "Body": message.replace("%FIRSTNAME%", c["firstName"])} for c in contacts]
