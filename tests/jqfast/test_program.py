"""FastProgram as the runtime uses it: the binding's interface, libjq on errors (its message),
the engine choice (--jq-engine, MANIFEST_RUNTIME_JQ_ENGINE) and what the subset declines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jq
import pytest

from manifest_runtime import jqfast
from manifest_runtime.cli import main
from manifest_runtime.commands.jq import compile_jq_text
from manifest_runtime.jqfast import compile_program
from manifest_runtime.jqfast.program import FastProgram

ROOT = Path(__file__).resolve().parents[2]
AT = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
SOURCE = "/workflows/0/data_pipeline/source"
PAYLOAD = '{"member": {"email": "a@b.c", "first_name": "A", "last_name": "B", "sms": "1"}}'


@pytest.fixture(autouse=True)
def _default_engine(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv(jqfast.ENV_VAR, raising=False)
    yield
    jqfast.choose_engine(None)


def test_a_subset_program_runs_on_the_fast_path() -> None:
    program = compile_program("{id, name: .full_name, tags: [.tags[] | ascii_upcase]}")
    assert isinstance(program, FastProgram)
    value = {"id": 7, "full_name": "Ada", "tags": ["a", "b"]}
    assert program.input_value(value).all() == [{"id": 7, "name": "Ada", "tags": ["A", "B"]}]
    assert program.stats == [1, 0]


def test_an_error_is_libjqs_error_with_its_message() -> None:
    program = compile_program(".a.b")
    with pytest.raises(ValueError, match=r'Cannot index number with "?b|string \("b"\)'):
        program.input_value({"a": 5}).all()
    assert program.stats == [0, 1]


def test_a_value_the_fast_path_does_not_model_runs_on_libjq() -> None:
    program = compile_program('"v=\\(.x)"')  # a float printed: jq keeps the literal 1.0
    assert isinstance(program, FastProgram)
    assert program.input_value({"x": 1.0}).all() == jq.compile('"v=\\(.x)"').input_value(
        {"x": 1.0}).all() == ["v=1.0"]
    assert program.stats == [0, 1]


@pytest.mark.parametrize("text", [
    "reduce .[] as $x (0; . + $x)", "def f: 1; f", 'test("a")', "..", ".a |= 1",
    "try error(\"x\") catch .", "@base64", ". as [$a] | $a", "$ENV", "limit(1; .[])",
])
def test_outside_the_subset_the_program_is_libjqs(text: str) -> None:
    assert not isinstance(compile_program(text), FastProgram)


def test_outputs_share_unchanged_parts_and_never_change_the_input() -> None:
    value = {"a": {"b": [1, "x"], "c": 2.0}, "d": {"e": "f"}}
    a, d = compile_program(".a, .d").input_value(value).all()
    assert a == {"b": [1, "x"], "c": 2} and type(a["c"]) is int  # as the binding gives it
    assert a is not value["a"] and a["b"] is value["a"]["b"]  # new only on the way to 2.0
    assert d is value["d"]  # nothing to change: shared, as !pipe shares values
    assert value == {"a": {"b": [1, "x"], "c": 2.0}, "d": {"e": "f"}}


def test_first_stops_at_the_first_output_as_libjq_does() -> None:
    assert compile_program(".[] | .a").input_value([{"a": 1}, 5]).first() == 1


def test_engine_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(jqfast.ENV_VAR, "libjq")
    assert not isinstance(compile_jq_text(".a"), FastProgram)
    monkeypatch.setenv(jqfast.ENV_VAR, "fast")
    assert isinstance(compile_jq_text(".a"), FastProgram)


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown jq engine"):
        jqfast.choose_engine("fastest")


@pytest.mark.parametrize("engine", ["fast", "libjq"])
def test_eval_gives_the_same_output_on_either_engine(
        engine: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", AT, SOURCE, "--input", PAYLOAD, "--jq-engine", engine])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["email"] == "a@b.c"
    assert jqfast.engine() == engine


def test_a_bad_engine_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", AT, SOURCE, "--jq-engine", "turbo"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'turbo'" in capsys.readouterr().err


def test_a_value_outside_json_runs_on_libjq() -> None:
    """Integer keys (a YAML mapping can have them) are strings to libjq (json.dumps): the
    closures decline them, libjq answers."""
    for text in ("keys", ".", "{a: .}"):
        program = compile_program(text)
        value = {1: "a", "b": 2}
        assert program.input_value(value).all() == jq.compile(text).input_value(value).all()
        assert program.stats == [0, 1]
