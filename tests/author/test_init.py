"""`manifest-runtime init`: every kind x format validates, its answers set it up headless,
its case file passes `test`, its sample runs (and polls) offline, as its README says."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from manifest_runtime.cli import main
from manifest_runtime.compile import load_and_compile
from manifest_runtime.scaffold import FORMATS, KINDS, Answers, files
from manifest_runtime.source import load_file


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_scaffold_sets_up_tests_and_runs_as_its_readme_says(
        kind: str, fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "acme-leads", "--kind", kind, "--format", fmt]) == 0
    folder = tmp_path / "acme-leads"
    assert f"wrote {kind} manifest acme-leads/manifest.{fmt}" in capsys.readouterr().out
    compiled = load_and_compile(str(folder / f"manifest.{fmt}"))
    assert [d for d in compiled.diagnostics if d.severity != "info"] == []
    monkeypatch.chdir(folder)
    readme = (folder / "README.md").read_text()
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line)[1:] for line in block.splitlines() if line]
    assert [c[0] for c in commands][:4] == ["validate", "test", "setup", "run"]
    for command in commands:
        assert main(command) == 0, (command, capsys.readouterr())
    out = capsys.readouterr().out
    assert " passed in " in out and "failed" not in out.split(" passed in ")[0][-80:]
    assert "read 2, delivered 2, failed 0" in out
    if kind != "outbound":  # delivered into the sandbox account
        assert main(["sandbox", "contacts", "--format", "json"]) == 0
        contacts = json.loads(capsys.readouterr().out)
        assert sorted(c["email"] for c in contacts) == ["ada@example.com", "grace@example.com"]


@pytest.mark.parametrize("kind", KINDS)
def test_yaml_and_json_are_the_same_manifest(kind: str, tmp_path: Path) -> None:
    """The YAML's `#` comments are the JSON's `_comment` keys; nothing else differs."""
    a = Answers(name="acme", kind=kind)  # type: ignore[arg-type]
    for fmt in FORMATS:
        (tmp_path / fmt).mkdir()
        for name, text in files(a, fmt).items():
            (tmp_path / fmt / name).write_text(text)

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "_comment"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    from_yaml = load_file(str(tmp_path / "yaml/manifest.yaml")).data
    from_json = load_file(str(tmp_path / "json/manifest.json")).data
    assert from_yaml == strip(from_json)
    assert "# " in (tmp_path / "yaml/manifest.yaml").read_text()
    assert '"_comment"' in (tmp_path / "json/manifest.json").read_text()


def test_init_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "acme", "--dir", "here"]) == 0
    (tmp_path / "here/manifest.yaml").write_text("# mine\n")
    assert main(["init", "acme", "--dir", "here"]) == 2
    assert "here/manifest.yaml exists already; nothing written" in capsys.readouterr().err
    assert (tmp_path / "here/manifest.yaml").read_text() == "# mine\n"
    assert main(["init", "acme", "--dir", "here", "--force", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] and "here/tests.yaml" in summary["files"]


@pytest.mark.parametrize(("argv", "message"), [
    (["init", "!!!"], "has no letters or digits"),
    (["init", "acme", "--base-url", "ftp://x"], "expected an http(s):// URL"),
    (["init", "acme", "--kind", "sideways"], "invalid choice: 'sideways'"),
])
def test_init_usage_errors(argv: list[str], message: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) if "--kind" in argv else _no_raise():
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    if "--kind" in argv:
        assert err.startswith("usage: manifest-runtime init")  # the subcommand's usage
    assert list(tmp_path.iterdir()) == []


class _no_raise:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with create_pipe_input() as pipe:
        monkeypatch.setattr("manifest_runtime.cli.init.terminal_io",
                            lambda: {"input": pipe, "output": DummyOutput()})
        yield pipe


def test_init_asks_on_a_terminal(keys: object, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrow keys pick outbound and json; the brand and URL are typed over the defaults."""
    monkeypatch.chdir(tmp_path)
    down, enter = "\x1b[B", "\r"
    erase = "\x7f" * 40
    keys.send_text(down + down + enter)  # type: ignore[attr-defined]
    keys.send_text(down + enter)  # type: ignore[attr-defined]
    keys.send_text(erase + "Acme CRM" + enter)  # type: ignore[attr-defined]
    keys.send_text(erase + "https://crm.acme.test/api" + enter)  # type: ignore[attr-defined]
    assert main(["init", "acme"]) == 0
    data = json.loads((tmp_path / "acme/manifest.json").read_text())
    assert data["workflows"][0]["type"] == "automations"
    assert data["workflows"][0]["label"] == "Acme CRM - Add a subscriber"
    assert data["api"]["base_url"] == "https://crm.acme.test/api"
    cassette = yaml.safe_load((tmp_path / "acme/cassette.yaml").read_text())
    assert cassette["interactions"][0]["request"]["url"] == "https://crm.acme.test/api/me"
