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
