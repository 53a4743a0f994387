"""docs/state.md's commands run as written, in order, from a scratch folder where examples/
is the repository's, against the session's throwaway PostgreSQL server: each database of the
doc (127.0.0.1:5432/NAME) is a fresh schema of that server, and `export` lines are applied
to the environment."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pgcluster
import pytest

from manifest_runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/state.md").read_text(encoding="utf-8")
DOC_SERVER = re.compile(r"postgresql://manifest:secret@127\.0\.0\.1:5432/(\w+)")
PASSWORD = "secret"  # the doc's; the test server's is pgcluster.PASSWORD


def lines() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", DOC, re.S)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines()
            if line.strip()]


def test_the_doc_shows_a_postgres_state_and_a_copy_into_one() -> None:
    text = " ".join(" ".join(lines()).split())
    assert "export MANIFEST_RUNTIME_STATE=postgresql://" in text
    assert "state copy --state one-machine.db --to postgresql://" in text
    assert len(set(DOC_SERVER.findall(text))) == 2


def test_every_command_of_the_doc_runs(postgres_cluster: pgcluster.Cluster, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    schemas: dict[str, str] = {}

    def here(match: re.Match[str]) -> str:
        if match.group(1) not in schemas:
            schemas[match.group(1)] = postgres_cluster.new_schema()
        return schemas[match.group(1)]

    ran = 0
    for line in lines():
        line = DOC_SERVER.sub(here, line)
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            monkeypatch.setenv(name, value)
            continue
        argv = shlex.split(line, comments=True)
        assert argv[0] == "manifest-runtime", line
        assert main(argv[1:]) == 0, (line, capsys.readouterr().err)
        ran += 1
    out, err = capsys.readouterr()
    assert ran >= 9 and len(schemas) == 2
    assert out.count("read 3, delivered 3, failed 0") == 2  # one per state
    assert out.count("3 of them skipped") == 2  # the resumed run, the run after the copy
    assert "ada@example.com" in out  # the sandbox of the PostgreSQL state
    assert "state file: postgresql://postgres:***@127.0.0.1:" in out
    assert "copied " in out and "to postgresql://postgres:***@127.0.0.1:" in out
    assert pgcluster.PASSWORD not in out + err
