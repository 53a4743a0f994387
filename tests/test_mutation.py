"""No traceback for any input (issue 10.6): every valid manifest of tests/ and examples/ is
mutated (tests/mutation.py: keys deleted, duplicated or retyped, values of the wrong type at
every depth, the text cut short) and each mutant is validated in-process through the command
line's `main`: the exit is 0 or 1 and nothing raises. A few mutants of the examples also go
through `setup --answers` (replayed from their cassettes): exit 0, 1 or 2, nothing raises.

The mutants are drawn from a fixed seed, so a failure is reproducible; the number is bounded
to keep the test to seconds. MANIFEST_RUNTIME_MUTATIONS=N draws N per manifest instead of the
default (MANIFEST_RUNTIME_MUTATION_SEED changes the seed)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from mutation import KINDS, Mutant, mutants

from manifest_runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent
PER_MANIFEST = int(os.environ.get("MANIFEST_RUNTIME_MUTATIONS", "8"))
SEED = int(os.environ.get("MANIFEST_RUNTIME_MUTATION_SEED", "20261202"))
SETUP_MUTANTS = 6  # per example with answers and a cassette


def _candidates() -> list[Path]:
    """Files of tests/ and examples/ that look like manifests (valid or not)."""
    found = []
    for base in ("tests", "examples"):
        for path in sorted((ROOT / base).rglob("*")):
            if path.suffix not in (".yaml", ".yml", ".json") or "cassette" in path.name:
                continue
            text = path.read_text(errors="replace")
            if "workflows" in text and "data_pipeline" in text:
                found.append(path)
    return found


def _validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    return code, out + err


def test_mutated_manifests_validate_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    crashed: list[str] = []
    valid = 0
    for manifest in _candidates():
        if _validate(manifest, capsys)[0] != 0:
            continue  # only valid manifests (exit 0, warnings allowed) are mutated
        valid += 1
        name = str(manifest.relative_to(ROOT))
        rng = random.Random(f"{SEED}:{name}")
        for n, mutant in enumerate(mutants(manifest.read_text(), rng, PER_MANIFEST)):
            suffix = manifest.suffix if mutant.kind == "truncate" else ".yaml"
            path = tmp_path / f"mutant-{valid}-{n}{suffix}"
            path.write_text(mutant.text)
            try:
                code, output = _validate(path, capsys)
            except Exception as exc:  # the property: never
                crashed.append(f"{name} {mutant.kind} {mutant.where}: "
                               f"{type(exc).__name__}: {exc}")
                continue
            if code not in (0, 1) or "Traceback" in output:
                crashed.append(f"{name} {mutant.kind} {mutant.where}: exit {code}\n{output}")
    assert valid >= 10  # tests/ and examples/ hold that many valid manifests at least
    assert crashed == [], f"seed {SEED}, {PER_MANIFEST} per manifest:\n" + "\n".join(crashed)


EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/answers.yaml")
                  if (p.parent / "cassette.yaml").exists())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_mutated_examples_set_up_without_a_traceback(
        example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [manifest] = [p for p in example.iterdir() if p.stem == "manifest"]
    rng = random.Random(f"{SEED}:setup:{example.name}")
    crashed: list[str] = []
    for n, mutant in enumerate(mutants(manifest.read_text(), rng, SETUP_MUTANTS)):
        path = tmp_path / f"mutant-{n}.yaml"
        path.write_text(mutant.text)
        try:
            code = main(["setup", str(path), "--answers", str(example / "answers.yaml"),
                         "--replay", str(example / "cassette.yaml"),
                         "--state", str(tmp_path / f"state-{n}.db")])
        except Exception as exc:
            crashed.append(f"{mutant.kind} {mutant.where}: {type(exc).__name__}: {exc}")
            continue
        out, err = capsys.readouterr()
        if code not in (0, 1, 2) or "Traceback" in out + err:
            crashed.append(f"{mutant.kind} {mutant.where}: exit {code}\n{err}")
    assert crashed == [], f"{example.name} (seed {SEED}):\n" + "\n".join(crashed)


def test_every_kind_of_mutation_is_drawn() -> None:
    text = (ROOT / "tests/intake/webhook.yaml").read_text()
    drawn = mutants(text, random.Random(1), len(KINDS))
    assert sorted(m.kind for m in drawn) == sorted(KINDS)
    assert all(isinstance(m, Mutant) and m.text != text for m in drawn)
