"""docs/state.md's commands run as written, from the repository root, against the session's
throwaway PostgreSQL server (its address and a fresh schema in place of the doc's
127.0.0.1:5432/manifest_state), with `export` lines applied to the environment."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pgcluster
import pytest

from manifest_runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/state.md").read_text(encoding="utf-8")
DOC_SERVER = "@127.0.0.1:5432/manifest_state"
PASSWORD = "secret"  # the doc's; the test server trusts 127.0.0.1, so any password is let in


def lines() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", DOC, re.S)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines()
            if line.strip()]


def test_every_command_of_the_doc_runs(postgres_cluster: pgcluster.Cluster,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    here = postgres_cluster.new_schema().removeprefix("postgresql://postgres")
    monkeypatch.chdir(ROOT)
    ran = 0
    for line in lines():
        line = line.replace("manifest:", "postgres:").replace(DOC_SERVER, here)
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            monkeypatch.setenv(name, value)
            continue
        argv = shlex.split(line, comments=True)
        assert argv[0] == "manifest-runtime", line
        assert main(argv[1:]) == 0, (line, capsys.readouterr().err)
        ran += 1
    out, err = capsys.readouterr()
    assert ran >= 5
    assert "read 3, delivered 3, failed 0" in out and "3 of them skipped" in out
    assert "ada@example.com" in out  # the sandbox of the PostgreSQL state
    assert "state file: postgresql://postgres:***@127.0.0.1:" in out
    assert PASSWORD not in out + err
