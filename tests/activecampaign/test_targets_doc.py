"""docs/targets.md's commands run as written, from the repository root: the sandbox ones as
they are, the real-account ones against the fake account (its URL and token put in place of
YOUR-ACCOUNT's), with `export` lines applied to the environment."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from fake_ac import TOKEN, FakeActiveCampaign

from manifest_runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/targets.md").read_text()
REAL_URL = "https://YOUR-ACCOUNT.api-us1.com"


def blocks() -> list[list[str]]:
    return [b.strip().splitlines() for b in re.findall(r"```sh\n(.*?)```", DOC, re.S)]


def test_the_doc_has_sandbox_and_real_account_commands() -> None:
    lines = [line for block in blocks() for line in block]
    assert any("--ac-url" in line for line in lines)
    assert any(line.startswith("export MANIFEST_RUNTIME_AC_TOKEN=") for line in lines)
    assert sum(line.startswith("manifest-runtime ") for line in lines) >= 6


def test_every_command_of_the_doc_runs(fake_ac: FakeActiveCampaign, fast: None,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    for block in blocks():
        for line in block:
            line = line.replace(REAL_URL, fake_ac.url).replace("YOUR-API-TOKEN", TOKEN)
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                monkeypatch.setenv(name, value)
                continue
            argv = shlex.split(line, comments=True)
            assert argv[0] == "manifest-runtime", line
            assert main(argv[1:]) == 0, (line, capsys.readouterr().err)
    out, err = capsys.readouterr()
    assert "read 3, delivered 3, failed 0" in out  # the sandbox run, then the real one
    assert '"perstag": "COMPANY"' in out  # eval listed the account's own fields
    assert fake_ac.account.calls("GET", "/api/3/fields")
    assert len(fake_ac.account.calls("POST", "/api/3/contact/sync")) == 6  # --restart: again
    assert TOKEN not in out + err
