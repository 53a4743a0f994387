"""The other commands with a real account: poll delivers into it, eval lists its fields and
warns of ignored keys, and a recorded run replays without the account or its token."""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fake_ac import TOKEN, FakeActiveCampaign
from loopback import Loopback, QuietHandler

from manifest_runtime.cli import main
from manifest_runtime.state import Setup, StateFile

ROOT = Path(__file__).resolve().parents[2]
POLLING = str(ROOT / "tests/pipeline/polling.yaml")
PARITY = str(Path(__file__).with_name("parity.yaml"))
EXAMPLE = ROOT / "examples/activetrail-contacts"


class Leads(Loopback):
    """tests/pipeline/polling.yaml's API: one page of two leads."""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.reply(200, {"leads": [{"email": "l1@example.com", "name": "L1"},
                                           {"email": "l2@example.com", "name": "L2"}],
                                 "next": None})

        return Handler


def test_poll_delivers_into_the_real_account(fake_ac: FakeActiveCampaign, fast: None,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """tests/pipeline/polling.yaml with a sync target given a key no record takes."""
    text = Path(POLLING).read_text()
    target = "      target: !resource ActiveCampaignContact\n"
    assert target in text
    manifest = tmp_path / "polling.yaml"
    manifest.write_text(text.replace(target, "      target: !pipe [!jq '{contact: ., note: 1}',"
                                             " !resource ActiveCampaign.sync]\n"))
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.save_setup(Setup("leads-in", mapping={"email": "email", "name": "firstName"},
                           selection={"resource_id": "all", "display": "All"},
                           schedule={"import_option": "recurring", "frequency": 1800},
                           credentials={"token": "key-SECRET"}))
    with Leads() as leads:
        code = main(["poll", str(manifest), "--once", "--remap",
                     f"https://leads.example.com={leads.url}", "--ac-url", fake_ac.url,
                     "--ac-token", TOKEN])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "read 2, delivered 2, failed 0" in out
    assert {k: c.get("firstName") for k, c in fake_ac.account.contacts.items()} == {
        "l1@example.com": "L1", "l2@example.com": "L2"}
    assert fake_ac.account.contact_tags_of("l2@example.com") == ["leads"]
    assert TOKEN not in out + err
    assert "leads-in: warning: ignored key 'note' on record 2" in err.splitlines()


def test_eval_warns_of_ignored_keys_and_traces_them(fake_ac: FakeActiveCampaign, fast: None,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    pointer = "/workflows/1/data_pipeline/target/!pipe/1"  # !resource ActiveCampaign.sync
    record = {"contact": {"email": "ann@example.com"}, "_tags": ["top"], "note": "x"}
    for ac in ([], ["--ac-url", fake_ac.url, "--ac-token", TOKEN]):
        assert main(["eval", PARITY, pointer, "--input", json.dumps(record), "--trace",
                     *ac]) == 0
        out, err = capsys.readouterr()
        assert json.loads(out) == {"contact-id": 1}
        assert "warning: ignored key 'note'" in err.splitlines()
        assert "  warnings: [\"ignored key 'note'\"]" in err.splitlines()
        assert TOKEN not in out + err
    assert fake_ac.account.contact_tags_of("ann@example.com") == ["top"]


def test_a_recorded_run_replays_without_the_account(fake_ac: FakeActiveCampaign, fast: None,
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    manifest = str(EXAMPLE / "manifest.yaml")
    assert main(["setup", manifest, "--answers", str(EXAMPLE / "answers.yaml"),
                 "--replay", str(EXAMPLE / "cassette.yaml")]) == 0
    cassette = str(tmp_path / "ac.yaml")
    payloads = str(EXAMPLE / "payloads.jsonl")
    assert main(["run", manifest, "--input", payloads, "--ac-url", fake_ac.url,
                 "--ac-token", TOKEN, "--record", cassette]) == 0
    sent = len(fake_ac.account.seen)
    capsys.readouterr()
    assert main(["run", manifest, "--input", payloads, "--restart", "--ac-url", fake_ac.url,
                 "--replay", cassette]) == 0  # no token: the cassette holds none
    assert "read 3, delivered 3, failed 0" in capsys.readouterr().out
    assert len(fake_ac.account.seen) == sent  # every answer came from the cassette


def test_serve_delivers_webhooks_into_the_real_account(fake_ac: FakeActiveCampaign,
                                                       fast: None,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    import warnings

    with warnings.catch_warnings():  # see tests/intake/conftest.py
        warnings.filterwarnings("ignore", message=r"The anyio\.abc\.\w+ alias is deprecated",
                                category=DeprecationWarning)
        from starlette.testclient import TestClient

    from manifest_runtime.cli import build_parser
    from manifest_runtime.cli.serve import serving
    from manifest_runtime.cli.session import compile_or_report

    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.save_setup(Setup("contacts", connection={"account_id": "x", "description": "x"},
                           mapping={"email": "email", "first": "firstName", "company": "1"},
                           selection={"resource_id": "x", "display": "x"},
                           credentials={"token": "conn-token"}))
    args = build_parser().parse_args(["serve", PARITY, "--workflow", "contacts",
                                      "--ac-url", fake_ac.url, "--ac-token", TOKEN])
    compiled = compile_or_report(args.manifest)
    assert compiled is not None
    with serving(args, compiled) as service, TestClient(service.app) as client:
        answer = client.post("/webhooks/contacts", json={"member": {
            "email": "hook@example.com", "first": "Hook", "company": "Acme"}})
        assert answer.json() == {"delivered": 1, "failed": 0}
    args = build_parser().parse_args(["serve", PARITY, "--workflow", "sync",
                                      "--ac-url", fake_ac.url, "--ac-token", TOKEN])
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.save_setup(Setup("sync", connection={"account_id": "x", "description": "x"},
                           mapping={"email": "contact.email"},
                           selection={"resource_id": "x", "display": "x"},
                           credentials={"token": "conn-token"}))
    with serving(args, compiled) as service, TestClient(service.app) as client:
        answer = client.post("/webhooks/sync", json={"email": "sync@example.com"})
        assert answer.json() == {"delivered": 1, "failed": 0}
    assert "webhook 2: warning: ignored key 'note' on record 2" in capsys.readouterr().err
    contact = fake_ac.account.contacts["hook@example.com"]
    assert contact["firstName"] == "Hook" and contact["fieldValues"] == {"1": "Acme"}
    assert fake_ac.account.contact_tags_of("hook@example.com") == ["parity"]
