"""What the README and docs/http.md say about `eval`: its options, where they are defined,
and the order of the trace."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from manifest_runtime.cli import build_parser, main
from manifest_runtime.cli.http_options import add_http_options

ROOT = Path(__file__).resolve().parent.parent


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings
            if s.startswith("--") and s != "--help"}


def _eval_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions
               if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = sub.choices["eval"]
    return parser


def test_readme_eval_synopsis_lists_every_option() -> None:
    readme = (ROOT / "README.md").read_text()
    synopsis = readme.split("```sh\nmanifest-runtime eval ", 1)[1].split("```", 1)[0]
    assert set(re.findall(r"--[a-z-]+", synopsis)) == _options(_eval_parser())


def test_http_doc_flag_table_lists_the_shared_options_and_says_where_the_others_are() -> None:
    doc = (ROOT / "docs/http.md").read_text()
    table = doc.split("## On the command line", 1)[1].split("\n## ", 1)[0]
    rows = {flag: line for line in table.splitlines() if line.startswith("| `--")
            for flag in re.findall(r"`(--[a-z-]+)", line.split("|")[1])}
    shared = argparse.ArgumentParser()
    add_http_options(shared)
    assert _options(shared) <= set(rows)
    assert set(rows) <= _options(_eval_parser())
    for own in set(rows) - _options(shared):  # --trace, --subdomain: eval's own
        assert "cli/eval.py" in rows[own], own


def test_trace_order_is_as_documented(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/http.md: attempts as they happen, before the entry of the step that made them; a
    pipe's own entry after its steps'; values cut at 2,000 characters."""
    monkeypatch.chdir(ROOT)
    pointer = "/workflows/0/setup/connect/describe_connection"
    assert main(["eval", "examples/activetrail-contacts/manifest.yaml", pointer,
                 "--replay", "examples/activetrail-contacts/cassette.yaml", "--trace"]) == 0
    heads = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith(("http:", "trace:"))]
    assert [h.split(" attempt")[0] for h in heads] == [
        "http: GET https://webapi.mymarketing.co.il/api/account",
        f"trace: {pointer}/!pipe/0 !http",
        f"trace: {pointer}/!pipe/1 !jq",
        f"trace: {pointer} !pipe",
    ]


def test_trace_values_are_cut_at_2000_characters() -> None:
    from manifest_runtime.cli.session import show

    shown = show("x" * 5000)
    assert len(shown) == 2000 and shown.endswith("...")
    assert show("x" * 10) == '"xxxxxxxxxx"'


def test_readme_first_command_runs(capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `manifest-runtime ...` part of the README's first command (after the install)
    succeeds, from the repository root, as a newcomer would run it."""
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    first = readme.split("```sh\n", 1)[1].split("\n```", 1)[0]
    parts = [shlex.split(p) for p in first.split(" && ")]
    commands = [p[1:] for p in parts if p[0] == "manifest-runtime"]
    assert [c[0] for c in commands] == ["validate", "setup", "run", "sandbox"]
    monkeypatch.chdir(root)
    for command in commands:
        assert main(command) == 0, command
    out = capsys.readouterr().out
    assert "read 3, delivered 3, failed 0" in out
    assert "ada@example.com" in out and "activetrail, vip" in out


# ---------------------------------------------------------------- every command in the docs

DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
# docs whose commands need a local server: a test of their own runs them
OWN_RUNNER = {"docs/targets.md": "tests/activecampaign/test_targets_doc.py",
              "docs/state.md": "tests/state/test_state_doc.py"}
SERVERS = ("serve", "studio")  # they run until Ctrl-C: their own tests start them
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_.]*[A-Z](?:\.[a-z]+)?$")  # MANIFEST, FILE.jsonl


def doc_steps(text: str) -> list[tuple[str, list[str], int]]:
    """The runnable steps of a doc, in order: ("run", argv, expected exit), ("cd", [dir]),
    ("append", [file, text]). Synopses (MANIFEST, [--option]) and anything that is not
    manifest-runtime, cd or `echo '...' >> FILE` are left out; `# exits N` after a command
    is its expected exit code. A ```yaml block opening with `# FILE: add ...` is appended
    to FILE."""
    steps: list[tuple[str, list[str], int]] = []
    for lang, block in re.findall(r"```(sh|yaml)\n(.*?)```", text, re.S):
        if lang == "yaml":
            first = block.split("\n", 1)[0]
            match = re.match(r"# (\S+): add", first)
            if match:
                steps.append(("append", [match.group(1), block.split("\n", 1)[1]], 0))
            continue
        for line in block.replace("\\\n", " ").splitlines():
            exits = re.search(r"#\s*exits (\d+)", line)
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] == "cd" and len(words) == 2:
                steps.append(("cd", words[1:], 0))
            elif words[:1] == ["echo"] and len(words) == 4 and words[2] == ">>":
                steps.append(("append", [words[3], words[1] + "\n"], 0))
            elif words[0] == "manifest-runtime" and not any(
                    w.startswith("[") or _PLACEHOLDER.match(w) or ("|" in w and "{" not in w)
                    for w in words[1:]) and "&&" not in words and words[1] not in SERVERS:
                steps.append(("run", words[1:], int(exits.group(1)) if exits else 0))
    return steps


@pytest.mark.parametrize("doc", DOCS)
def test_every_command_in_the_docs_runs(doc: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Each doc's commands run in order, from a scratch folder where examples/ is the
    repository's: each exits as the doc says (0 unless marked `# exits N`)."""
    steps = doc_steps((ROOT / doc).read_text(encoding="utf-8"))
    if not any(kind == "run" for kind, _, _ in steps):
        pytest.skip(f"{doc} shows no runnable command (synopses only)")
    if doc in OWN_RUNNER:
        pytest.skip(f"{doc}'s commands run in {OWN_RUNNER[doc]} (they need a server)")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    for kind, words, expected in steps:
        if kind == "cd":
            monkeypatch.chdir(words[0])
        elif kind == "append":
            with open(words[0], "a", encoding="utf-8") as f:
                f.write(words[1])
        else:
            code = main(words)
            captured = capsys.readouterr()
            assert code == expected, (doc, words, captured.out[-2000:], captured.err[-2000:])


def test_the_doc_runner_reads_what_the_tutorial_shows() -> None:
    assert not [w for _, w, _ in doc_steps((ROOT / "docs/studio.md").read_text())
                if w[0] == "studio"]  # a server: tests/studio runs it
    steps = doc_steps((ROOT / "docs/tutorial.md").read_text())
    kinds = [(k, w[0]) for k, w, _ in steps]
    assert kinds[:3] == [("run", "init"), ("cd", "acme-leads"), ("run", "validate")]
    assert ("append", "tests.yaml") in kinds and ("append", "payloads.jsonl") in kinds
    assert [e for k, w, e in steps if k == "run" and w[0] == "run"] == [0, 1]


def test_docs_stand_alone() -> None:
    """No doc cites a document that is not in the repository by section."""
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert not re.search(r"(DESIGN|reference)\s*§", text), doc
