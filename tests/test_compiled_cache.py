"""compiled_cache.py: a manifest compiled before comes back from disk, equal to a fresh compile;
anything the compile depends on is part of the key; invalid manifests, damaged entries and
entries others could write are never used."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from manifest_runtime import compiled_cache
from manifest_runtime.compile import load_and_compile

ROOT = Path(__file__).resolve().parent.parent
AT = ROOT / "examples/activetrail-contacts/manifest.yaml"
TWILIO = ROOT / "examples/twilio-sms/manifest.json"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("MANIFEST_RUNTIME_CACHE_DIR", str(directory))
    monkeypatch.delenv("MANIFEST_RUNTIME_NO_CACHE", raising=False)
    return directory / compiled_cache.DIR_NAME


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*" + compiled_cache.SUFFIX)) if cache.exists() else []


@pytest.mark.parametrize("manifest", [AT, TWILIO], ids=["yaml", "json"])
def test_a_hit_equals_a_fresh_compile(cache: Path, manifest: Path) -> None:
    first = compiled_cache.load_and_compile(str(manifest))
    assert len(entries(cache)) == 1
    again = compiled_cache.load_and_compile(str(manifest))
    assert again is not first
    assert again == first == load_and_compile(str(manifest))
    assert again.diagnostics == first.diagnostics and again.source.file == str(manifest)
    assert len(entries(cache)) == 1


def test_the_bytes_and_the_name_are_the_key(cache: Path, tmp_path: Path) -> None:
    copy = tmp_path / "manifest.yaml"
    shutil.copy(AT, copy)
    compiled_cache.load_and_compile(str(copy))
    compiled_cache.load_and_compile(str(AT))  # same bytes, another name
    assert len(entries(cache)) == 2
    copy.write_text(AT.read_text().replace('["activetrail"]', '["activetrail-edited"]'))
    edited = compiled_cache.load_and_compile(str(copy))
    assert len(entries(cache)) == 3
    assert "activetrail-edited" in json.dumps(edited.data)
    assert edited == load_and_compile(str(copy))


def test_an_invalid_manifest_is_not_kept(cache: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(AT.read_text().replace("workflows:", "workflowz:", 1))
    first = compiled_cache.load_and_compile(str(bad))
    assert not first.valid
    assert entries(cache) == []
    assert compiled_cache.load_and_compile(str(bad)).diagnostics == first.diagnostics


def test_a_file_over_the_limit_is_refused_hit_or_not(cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from manifest_runtime.errors import ManifestLoadError

    compiled_cache.load_and_compile(str(AT))
    monkeypatch.setenv("MANIFEST_RUNTIME_MAX_BYTES", "100")
    with pytest.raises(ManifestLoadError) as caught:
        compiled_cache.load_and_compile(str(AT))
    assert caught.value.diagnostic.code == "too-large"


def test_damaged_and_foreign_entries_are_misses(cache: Path, tmp_path: Path) -> None:
    compiled_cache.load_and_compile(str(AT))
    [entry] = entries(cache)
    entry.write_bytes(b"not a pickle")
    assert compiled_cache.load_and_compile(str(AT)) == load_and_compile(str(AT))
    # an entry holding another manifest's compile is returned as it is (so the entry is
    # what is read) unless others may write it
    other = tmp_path / "other.json"
    shutil.copy(TWILIO, other)
    compiled_cache.load_and_compile(str(other))
    [other_entry] = [e for e in entries(cache) if e != entry]
    shutil.copy(other_entry, entry)
    os.chmod(entry, 0o600)
    assert compiled_cache.load_and_compile(str(AT)).source.file == str(other)
    os.chmod(entry, 0o666)
    assert compiled_cache.load_and_compile(str(AT)).source.file == str(AT)


def test_no_cache_when_asked(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANIFEST_RUNTIME_NO_CACHE", "1")
    assert compiled_cache.load_and_compile(str(AT)) == load_and_compile(str(AT))
    assert entries(cache) == []


def test_only_the_newest_entries_are_kept(cache: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled_cache, "KEEP", 3)
    for i in range(5):
        copy = tmp_path / f"m{i}.json"
        shutil.copy(TWILIO, copy)
        compiled_cache.load_and_compile(str(copy))
    assert len(entries(cache)) == 3


SCRIPT = """import json, sys
from manifest_runtime.cli import main
code = main(sys.argv[2:])
sys.stdout.flush()
with open(sys.argv[1], "w") as f:
    json.dump(sorted(sys.modules), f)
raise SystemExit(code)
"""


def test_a_command_of_a_cached_manifest_neither_parses_nor_compiles(cache: Path,
                                                                     tmp_path: Path) -> None:
    """`eval` twice: the second process reads no YAML, validates no schema, compiles
    nothing, and prints the same."""
    outputs = []
    for i in range(2):
        modules = tmp_path / f"modules{i}.json"
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(modules), "eval", str(AT),
             "/workflows/0/data_pipeline/source", "--input",
             '{"member": {"email": "a@example.com"}}', "--custom-data", '{"tag": "vip"}'],
            capture_output=True, text=True, timeout=120, env={**os.environ})
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
        loaded = set(json.loads(modules.read_text()))
    assert outputs[0] == outputs[1] and "a@example.com" in outputs[0]
    for name in ("yaml", "jsonschema_rs", "jsonschema", "lark", "manifest_runtime.source_yaml",
                 "manifest_runtime.expressions.parser",
                 "manifest_runtime.compile"):  # the package: none of its modules
        assert name not in loaded, name
