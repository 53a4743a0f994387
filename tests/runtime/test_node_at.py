"""`CompiledManifest.node_at`: the node a manifest path names, descending into commands
(pipe steps, switch cases, `!http` arguments and what is nested in them)."""

from __future__ import annotations

import sys
from pathlib import Path as FsPath
from typing import Any

import pytest

sys.path.insert(0, str(FsPath(__file__).resolve().parents[1] / "commands"))
from evalcase import compile_raw

from manifest_runtime.errors import EvaluationError
from manifest_runtime.model import Command, CompiledManifest, Const, Obj, Tmpl
from manifest_runtime.paths import Path, from_pointer
from manifest_runtime.runtime import EvalContext, run_at
from manifest_runtime.source import SourceMap

RAW: dict[str, Any] = {"!pipe": [
    {"!jq": "."},
    {"!switch": {"jq": "0", "cases": [
        {"!http": {"method": "POST", "url": "https://x.test/${custom_data.id.value}",
                   "body": {"id": "${custom_data.id.value}", "fixed": {"a": [1, 2]},
                            "digest": {"!jq": ".x"}}}},
        {"!print_c": "case 1"},
    ]}},
]}


def manifest(raw: Any, *, valid: bool = True) -> CompiledManifest:
    """`raw` compiled at /case of a manifest."""
    node, errors = compile_raw(raw)
    assert not errors if valid else errors
    return CompiledManifest("case.yaml", {"case": raw}, Obj({"case": node}, ()),
                            SourceMap("case.yaml"))


def at(compiled: CompiledManifest, pointer: str) -> Any:
    return compiled.node_at(from_pointer(pointer))


def test_a_command_is_found_by_its_object_path_and_its_argument_path() -> None:
    compiled = manifest(RAW)
    pipe = at(compiled, "/case")
    assert isinstance(pipe, Command) and pipe.name == "!pipe"
    assert at(compiled, "/case/!pipe") is pipe
    step = at(compiled, "/case/!pipe/1")
    assert isinstance(step, Command) and step.name == "!switch"
    assert at(compiled, "/case/!pipe/1/!switch") is step


@pytest.mark.parametrize(("pointer", "kind", "path"), [
    ("/case/!pipe/0", Command, ("case", "!pipe", 0)),
    ("/case/!pipe/1/!switch/cases/0", Command, ("case", "!pipe", 1, "!switch", "cases", 0)),
    ("/case/!pipe/1/!switch/cases/1/!print_c", Command,
     ("case", "!pipe", 1, "!switch", "cases", 1)),
    ("/case/!pipe/1/!switch/cases/0/!http/url", Tmpl, None),
    ("/case/!pipe/1/!switch/cases/0/!http/body", Obj, None),
    ("/case/!pipe/1/!switch/cases/0/!http/body/id", Tmpl, None),
    ("/case/!pipe/1/!switch/cases/0/!http/body/fixed/a/1", Const, None),
    ("/case/!pipe/1/!switch/cases/0/!http/body/digest", Command, None),
    ("/case/!pipe/1/!switch/cases/0/!http/body/digest/!jq", Command,
     ("case", "!pipe", 1, "!switch", "cases", 0, "!http", "body", "digest")),
])
def test_descends_into_command_arguments(pointer: str, kind: type, path: Path | None) -> None:
    node = at(manifest(RAW), pointer)
    assert isinstance(node, kind)
    assert node.path == (path if path is not None else from_pointer(pointer))


@pytest.mark.parametrize("pointer", [
    "/case/!jq",  # not the command's name
    "/case/!pipe/2",  # no such step
    "/case/!pipe/0/!jq/x",  # a jq program has no compiled parts
    "/case/!pipe/1/!switch/jq",  # the switch's jq program is not a value node
    "/case/!pipe/1/!switch/cases",  # the case list itself is not a node
    "/case/!pipe/1/!switch/cases/0/!http/method",  # kept as plain text, not a node
    "/case/!pipe/1/!switch/cases/0/!http/body/nope",
    "/case/!pipe/1/!switch/cases/0/!http/body/fixed/a/2",
])
def test_parts_without_a_node_give_none(pointer: str) -> None:
    assert at(manifest(RAW), pointer) is None


def test_pipe_steps_keep_their_index_when_an_earlier_step_is_invalid() -> None:
    compiled = manifest({"!pipe": [{"!jq": "."}, 5, {"!jq": ".a"}]}, valid=False)
    assert at(compiled, "/case/!pipe/1") is None
    step = at(compiled, "/case/!pipe/2")
    assert isinstance(step, Command) and step.path == ("case", "!pipe", 2)


def test_run_at_evaluates_a_value_inside_a_command_argument() -> None:
    compiled = manifest(RAW)
    ctx = EvalContext.create(custom_data={"id": {"value": "7", "display": "seven"}})
    body = "/case/!pipe/1/!switch/cases/0/!http/body"
    assert run_at(compiled, body + "/id", None, ctx) == "7"
    assert run_at(compiled, body + "/digest", {"x": 3}, ctx) == 3
    assert run_at(compiled, "/case/!pipe/1/!switch/cases/1/!print_c", 4, ctx) == 4
    with pytest.raises(EvaluationError) as info:
        run_at(compiled, "/case/!pipe/1/!switch/jq", None, ctx)
    assert info.value.diagnostic.code == "no-such-node"
