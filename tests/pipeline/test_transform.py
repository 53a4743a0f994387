"""The automatic transform (pipeline/transform.py): cases in transform.yaml, and the saved
mapping setup writes read back by `run` (ids with dots beside grouped options)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from manifest_runtime.cli import main
from manifest_runtime.http.credentials import ENV_VARS
from manifest_runtime.pipeline.transform import (
    Key,
    mapping_pairs,
    saved_mapping,
    transform,
    transformer,
)
from manifest_runtime.state import StateFile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = yaml.safe_load((HERE / "transform.yaml").read_text(encoding="utf-8"))
DOTTED = ROOT / "tests" / "setup" / "manifests" / "dotted.yaml"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_transform(case: dict[str, Any]) -> None:
    pairs = None if case["mapping"] is None else mapping_pairs(case["mapping"])
    assert transform(case["record"], pairs) == case["output"]
    made = transformer(pairs)(case["record"])  # the per-run form gives the same, same order
    assert made == case["output"] and list(made if isinstance(made, dict) else ()) == \
        list(case["output"] if isinstance(case["output"], dict) else ())


def test_saved_mapping_round_trips() -> None:
    pairs = [(Key("address.city"), Key("city", "address")), (Key("a", "g"), Key("b.c"))]
    saved = saved_mapping(pairs)
    assert saved == {"$pairs": [
        {"source": "address.city", "target": "city", "target_group": "address"},
        {"source": "a", "source_group": "g", "target": "b.c"}]}
    assert mapping_pairs(json.loads(json.dumps(saved))) == pairs


def test_setup_then_run_keeps_dotted_ids_and_groups_apart(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """setup's saved mapping, read by `run --dry-run`: `address.city` is a flat key on both
    sides; postcode and country are read from, and zip and city written into, `address`."""
    state = tmp_path / "state.db"
    answers = ROOT / "tests" / "setup" / "cases" / "dotted-ok" / "answers.yaml"
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"dotted-oauth": {"access_token": "tok-0123"}}))
    assert main(["setup", str(DOTTED), "--answers", str(answers), "--state", str(state),
                 "--credentials", str(creds)]) == 0
    with StateFile(str(state)) as opened:
        setup = opened.load_setup("dotted-in")
    assert setup is not None and "$pairs" in setup.mapping
    payload = tmp_path / "in.jsonl"
    payload.write_text(json.dumps({"member": {
        "email": "a@b.c", "address.city": "Paris",
        "address": {"city": "not mapped", "postcode": "75001", "country": "FR"}}}) + "\n")
    capsys.readouterr()
    assert main(["run", str(DOTTED), "--input", str(payload), "--dry-run",
                 "--state", str(state)]) == 0
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[0]) == {
        "email": "a@b.c", "address.city": "Paris", "address": {"zip": "75001", "city": "FR"}}
