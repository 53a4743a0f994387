"""The jq verdict cache (jqverdicts.py): re-validating an unchanged manifest asks libjq
nothing, a cached syntax error is reported exactly as a fresh one, NO_CACHE turns it off, an
unusable cache directory is silently ignored, and concurrent writers do not break it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from manifest_runtime import jqverdicts
from manifest_runtime.commands import jq as jq_command
from manifest_runtime.compile import load_and_compile

ROOT = Path(__file__).resolve().parents[2]
JQ_ERRORS = ROOT / "tests/validate/golden/jq-and-filter-errors.yaml"
TWILIO = ROOT / "examples/twilio-sms/manifest.json"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(jqverdicts.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(jqverdicts.NO_CACHE_VARIABLE, raising=False)
    jq_command.forget_compiled()
    yield tmp_path / "cache"
    jq_command.forget_compiled()


def _count_libjq(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import jq

    asked: list[str] = []
    real = jq.compile

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(jq, "compile", counting)
    return asked


def _summary(file: Path) -> list[tuple[str, str, int | None, int | None, str]]:
    compiled = load_and_compile(str(file), keep=False)
    return [(d.code, d.pointer, d.line, d.column, d.message) for d in compiled.diagnostics]


def test_revalidating_asks_libjq_nothing(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _count_libjq(monkeypatch)
    first = _summary(TWILIO)
    assert asked, "the first validate compiles the programs"
    jq_command.forget_compiled()  # a new process: only the file remains
    asked.clear()
    assert _summary(TWILIO) == first
    assert asked == []
    assert (cache / jqverdicts.FILE_NAME).exists()


def test_a_cached_syntax_error_is_reported_as_a_fresh_one(cache: Path) -> None:
    fresh = _summary(JQ_ERRORS)
    assert any(code == "jq-syntax" for code, *_ in fresh)
    jq_command.forget_compiled()
    assert _summary(JQ_ERRORS) == fresh


def test_no_cache_neither_reads_nor_writes(cache: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setenv(jqverdicts.NO_CACHE_VARIABLE, "1")
    jq_command.forget_compiled()
    asked = _count_libjq(monkeypatch)
    _summary(TWILIO)
    jq_command.forget_compiled()
    count = len(asked)
    _summary(TWILIO)
    assert len(asked) == 2 * count > 0
    assert not cache.exists()


def test_an_unusable_cache_directory_is_ignored(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(jqverdicts.CACHE_DIR_VARIABLE, str(blocker / "cache"))
    jq_command.forget_compiled()
    try:
        assert load_and_compile(str(TWILIO)).valid
    finally:
        jq_command.forget_compiled()


def test_a_program_compiled_lazily_runs(cache: Path) -> None:
    """A program known to compile is compiled when it first runs (eval, run)."""
    load_and_compile(str(TWILIO))
    jq_command.forget_compiled()
    compiled = load_and_compile(str(TWILIO))
    node = compiled.node_at(("workflows", 0, "setup", "select", "form_fields", 0, "options",
                             "!pipe", 1))
    assert node is not None and node.node.program is not None  # type: ignore[union-attr]


def test_concurrent_validations_share_the_cache(cache: Path) -> None:
    """Four processes validating at once (each writing verdicts) all succeed, and the cache
    is readable afterwards."""
    code = ("import sys; from manifest_runtime.compile import load_and_compile; "
            "sys.exit(0 if load_and_compile(sys.argv[1]).valid else 1)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(TWILIO)]) for _ in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    assert (cache / jqverdicts.FILE_NAME).exists()
    assert _summary(TWILIO)
