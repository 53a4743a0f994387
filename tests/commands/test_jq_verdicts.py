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


# ---------------------------------------------------------------------- many at once

ALONE_BAD = ["1) | (2", '"open', '"a\\(.b', "(1", "2)", "def x: 1;",
             'import "a" as b; .', "foo", "$x", ".a | foo(", '"\\u12"', "{(1): 2}",
             "break $out", ".[", "if . then 1", "length(1)", "reduce .[] as $x (0)"]
GOOD = [".", ".a", "def f: 1; f", '"a\\(.b)c"', "label $out | break $out",
        "[.[] | select(. > 1)]", '"#not a comment"', "{a: 1, b}", "$__loc__",
        "reduce .[] as $x (0; . + $x)", '"(" + .a + ")"', "try error(\"x\") catch ."]


def _alone(programs: list[str]) -> dict[str, str]:
    import jq

    verdicts = {}
    for p in programs:
        try:
            jq.compile(p)
            verdicts[p] = jqverdicts.COMPILES
        except ValueError as exc:
            verdicts[p] = str(exc)
    return verdicts


def test_programs_judged_together_get_the_verdicts_they_get_alone(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mixed good and bad programs (unbalanced ones that would close each other's brackets,
    comments, definitions only, imports, unknown names): each gets libjq's own verdict on it
    alone, message included."""
    monkeypatch.setenv(jqverdicts.NO_CACHE_VARIABLE, "1")  # each settle asks libjq afresh
    jq_command.forget_compiled()
    programs = [p for pair in zip(GOOD, ALONE_BAD, strict=False) for p in pair] + \
        ALONE_BAD[len(GOOD):] + [".a # a comment (compiled alone)"]
    alone = _alone(programs)
    assert list(alone.values()).count(jqverdicts.COMPILES) == len(GOOD) + 1
    asked = _count_libjq(monkeypatch)
    assert jqverdicts.settle(programs) is False
    assert {p: jqverdicts.VERDICTS.get(p) for p in programs} == alone
    assert len(asked) < 4 * len(programs)  # halving finds the bad ones
    jq_command.forget_compiled()
    asked.clear()
    assert jqverdicts.settle(GOOD) is True
    assert len(asked) == 1  # all at once
    many = [f".a + {i}" for i in range(jqverdicts.CHUNK + 10)]
    asked.clear()
    assert jqverdicts.settle(many) is True and len(asked) == 2  # a chunk at a time


def test_self_contained() -> None:
    contained = jqverdicts._self_contained
    assert all(contained(p) for p in GOOD)
    assert not any(contained(p) for p in ("1) | (2", '"open', '"a\\(.b', "(1", "2)", "]",
                                          ".a # note", '"\\(1"'))


CASE_FILES = sorted(p for d in ("invalid", "valid", "golden")
                    for p in (ROOT / "tests/validate" / d).iterdir()
                    if p.suffix in (".json", ".yaml"))


def test_every_case_file_gives_the_same_diagnostics_as_one_program_at_a_time(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk that takes unknown programs to compile and judges them afterwards (walking
    again when one does not compile) reports exactly what judging each where it stands did."""
    from contextlib import contextmanager

    together = {}
    for file in CASE_FILES:
        jq_command.forget_compiled()
        together[file.name] = _summary(file)

    @contextmanager
    def one_at_a_time() -> Iterator[list[str]]:
        yield []

    monkeypatch.setattr(jqverdicts, "optimistic", one_at_a_time)
    monkeypatch.setenv(jqverdicts.NO_CACHE_VARIABLE, "1")
    for file in CASE_FILES:
        jq_command.forget_compiled()
        assert _summary(file) == together[file.name], file.name


def test_a_pass_upset_by_a_program_wrongly_taken_to_compile_costs_a_second_walk_only(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jq

    expected = _summary(JQ_ERRORS)
    real = jq_command.root_fields

    def upset(plain: str) -> Any:
        try:
            jq.compile(plain.replace("$__v", "null"))
        except ValueError:
            raise RuntimeError("a pass that needs a program that compiles") from None
        return real(plain)

    monkeypatch.setattr(jq_command, "root_fields", upset)
    monkeypatch.setenv(jqverdicts.NO_CACHE_VARIABLE, "1")  # nothing judged yet
    jq_command.forget_compiled()
    assert _summary(JQ_ERRORS) == expected
