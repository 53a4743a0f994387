"""`manifest-runtime setup --answers` as data: each directory in cases/ holds an answers file
and case.json, which names the inputs (a manifest and cassette from manifests/, extra
arguments, a credentials file's content, environment variables) and the golden outputs: the
exit code, the setups saved in the state file, stdout and stderr.

    python -m pytest tests/setup --update-golden     # rewrite the outputs from this run

HTTP is answered from hand-written cassettes (--replay), so nothing touches the network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from manifest_runtime.cli import main
from manifest_runtime.http.credentials import ENV_VARS
from manifest_runtime.state import StateFile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = sorted(p for p in (HERE / "cases").iterdir() if p.is_dir())
INPUTS = ("manifest", "cassette", "args", "credentials", "env")
SECRET = "SECRET"


def run_case(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    spec = json.loads((case / "case.json").read_text(encoding="utf-8"))
    monkeypatch.chdir(ROOT)
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    for name, value in (spec.get("env") or {}).items():
        monkeypatch.setenv(name, value)
    state = tmp_path / "state.db"
    rel = HERE.relative_to(ROOT)
    answers = next(case.glob("answers.*"))
    argv = ["setup", str(rel / "manifests" / f"{spec['manifest']}.yaml"),
            "--answers", str(answers.relative_to(ROOT)), "--state", str(state),
            *spec.get("args", [])]
    if spec.get("cassette"):
        argv += ["--replay", str(rel / "manifests" / f"{spec['cassette']}.cassette.yaml")]
    if spec.get("credentials"):
        creds = tmp_path / "credentials.json"
        creds.write_text(json.dumps(spec["credentials"]), encoding="utf-8")
        argv += ["--credentials", str(creds)]
    code = main(argv)
    out, err = capsys.readouterr()
    saved = []
    if state.exists():
        with StateFile(str(state)) as opened:
            saved = [s.as_json() for s in opened.setups()]
    return {"exit": code, "setups": saved,
            "stdout": out.replace(str(tmp_path), "<tmp>"),
            "stderr": err.replace(str(tmp_path), "<tmp>")}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_case(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str], update_golden: bool) -> None:
    actual = run_case(case, tmp_path, monkeypatch, capsys)
    file = case / "case.json"
    spec = json.loads(file.read_text(encoding="utf-8"))
    if update_golden:
        kept = {k: spec[k] for k in INPUTS if k in spec}
        file.write_text(json.dumps({**kept, **actual}, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return
    assert "Traceback" not in actual["stderr"]
    for key in ("exit", "setups", "stdout", "stderr"):
        assert actual[key] == spec.get(key), f"{key} differs (--update-golden rewrites it)"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_no_secret_is_printed(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """Credentials given in a case contain SECRET: neither stdout nor stderr shows them
    (the state file keeps them; `state show` masks them)."""
    actual = run_case(case, tmp_path, monkeypatch, capsys)
    assert SECRET not in actual["stdout"] + actual["stderr"]
