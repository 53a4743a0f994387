"""Issue 12's "done when": the bundled inbound example, run with --ac-url/--ac-token against a
fake ActiveCampaign account, sends one contact/sync per record plus its tags, and the token
appears nowhere: not in stdout, stderr (with --trace), the cassette, or the state file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fake_ac import TOKEN, FakeActiveCampaign

from manifest_runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/activetrail-contacts"
MANIFEST = str(EXAMPLE / "manifest.yaml")


def setup_example(capsys: pytest.CaptureFixture[str]) -> None:
    """setup against the sandbox (the example's cassette answers ActiveTrail)."""
    assert main(["setup", MANIFEST, "--answers", str(EXAMPLE / "answers.yaml"),
                 "--replay", str(EXAMPLE / "cassette.yaml")]) == 0
    capsys.readouterr()


def test_example_run_into_a_real_account(fake_ac: FakeActiveCampaign, fast: None,
                                         tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    setup_example(capsys)
    # into the sandbox first: the same file then still goes to the real account (a resume
    # key per account), not "skipped, done in an earlier run"
    assert main(["run", MANIFEST, "--input", str(EXAMPLE / "payloads.jsonl")]) == 0
    assert "read 3, delivered 3, failed 0" in capsys.readouterr().out
    cassette = tmp_path / "ac.yaml"
    code = main(["run", MANIFEST, "--input", str(EXAMPLE / "payloads.jsonl"), "--trace",
                 "--ac-url", fake_ac.url, "--ac-token", TOKEN, "--record", str(cassette)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "read 3, delivered 3, failed 0" in out
    account = fake_ac.account
    syncs = account.calls("POST", "/api/3/contact/sync")
    assert [s.body["contact"]["email"] for s in syncs] == [
        "ada@example.com", "grace@example.com", "alan@example.com"]
    assert syncs[0].body["contact"] == {"email": "ada@example.com", "firstName": "Ada",
                                        "lastName": "Lovelace", "phone": "+15550100"}
    # the example's tags: "activetrail" and the answers' "vip", looked up (and created) once
    assert len(account.calls("GET", "/api/3/tags")) == 2
    assert [t["tag"] for t in account.tags] == ["activetrail", "vip"]
    assert len(account.calls("POST", "/api/3/contactTags")) == 6
    for email in ("ada@example.com", "grace@example.com", "alan@example.com"):
        assert account.contact_tags_of(email) == ["activetrail", "vip"]
    assert all(s.headers.get("Api-Token") == TOKEN for s in account.seen)
    # the token never printed or stored, though every request carried it
    state = Path(os.environ["MANIFEST_RUNTIME_STATE"])
    for name, text in (("stdout", out), ("stderr", err), ("cassette", cassette.read_text())):
        assert TOKEN not in text, name
    assert "http: POST " in err and "/api/3/contact/sync" in err  # --trace showed the calls
    for path in state.parent.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path
    assert "Api-Token: '***'" in cassette.read_text()


def test_the_token_can_come_from_the_environment_or_the_credentials_file(
        fake_ac: FakeActiveCampaign, fast: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    setup_example(capsys)
    one = tmp_path / "one.jsonl"
    one.write_text('{"member": {"email": "env@example.com"}}\n')
    monkeypatch.setenv("MANIFEST_RUNTIME_AC_URL", fake_ac.url)
    monkeypatch.setenv("MANIFEST_RUNTIME_AC_TOKEN", TOKEN)
    assert main(["run", MANIFEST, "--input", str(one)]) == 0
    monkeypatch.delenv("MANIFEST_RUNTIME_AC_URL")
    monkeypatch.delenv("MANIFEST_RUNTIME_AC_TOKEN")
    creds = tmp_path / "creds.yaml"
    creds.write_text(f"activecampaign: {{url: '{fake_ac.url}', token: '{TOKEN}'}}\n")
    two = tmp_path / "two.jsonl"
    two.write_text('{"member": {"email": "file@example.com"}}\n')
    assert main(["run", MANIFEST, "--input", str(two), "--credentials", str(creds)]) == 0
    assert list(fake_ac.account.contacts) == ["env@example.com", "file@example.com"]
    out, err = capsys.readouterr()
    assert TOKEN not in out + err


@pytest.mark.parametrize(("argv", "message"), [
    (["--ac-url", "https://x.api-us1.com"], "needs the account's API token"),
    (["--ac-token", "abcdefgh"], "no URL"),
    (["--ac-url", "x.api-us1.com", "--ac-token", "abcdefgh"], "is not an http(s) URL"),
    (["--ac-url", "abcdefgh"], "needs the account's API token"),  # the token, misplaced
    (["--ac-url", "abcdefgh", "--ac-token", "x"], "is not an http(s) URL"),
])
def test_half_a_real_account_is_a_usage_error(argv: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    setup_example(capsys)
    code = main(["run", MANIFEST, "--input", str(EXAMPLE / "payloads.jsonl"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "abcdefgh" not in err


def test_a_refused_token_fails_each_record_with_a_hint(fake_ac: FakeActiveCampaign,
                                                       fast: None,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    setup_example(capsys)
    wrong = "wrong-token-456"
    code = main(["run", MANIFEST, "--input", str(EXAMPLE / "payloads.jsonl"),
                 "--ac-url", fake_ac.url, "--ac-token", wrong])
    out, err = capsys.readouterr()
    assert code == 1 and "failed 3" in out and wrong not in out + err
    capsys.readouterr()
    assert main(["state", "show", "--format", "json"]) == 0
    shown = capsys.readouterr().out
    assert "HTTP 403" in shown and "the API token was refused" in shown and wrong not in shown


def test_concurrent_records_create_each_tag_once(fake_ac: FakeActiveCampaign, fast: None,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    setup_example(capsys)
    many = tmp_path / "many.jsonl"
    many.write_text("".join(f'{{"member": {{"email": "m{i}@example.com"}}}}\n'
                            for i in range(12)))
    assert main(["run", MANIFEST, "--input", str(many), "--concurrency", "4",
                 "--ac-url", fake_ac.url, "--ac-token", TOKEN]) == 0
    assert "read 12, delivered 12, failed 0" in capsys.readouterr().out
    account = fake_ac.account
    assert len(account.calls("POST", "/api/3/contact/sync")) == 12
    assert [t["tag"] for t in account.tags] == ["activetrail", "vip"]
    assert len(account.calls("POST", "/api/3/tags")) == 2  # one lookup and creation each
    assert len(account.calls("GET", "/api/3/fields")) == 1  # the fields, read once
    assert len(account.contact_tags) == 24
