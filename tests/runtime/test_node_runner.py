"""A node run once per record (runtime.run.node_runner) and a `!jq`'s expansions kept between
records (commands/jq.py bound_variables): the same outputs, and exactly `run_node`'s errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "commands"))
from evalcase import compile_raw

from manifest_runtime.errors import EvaluationError
from manifest_runtime.runtime import EvalContext
from manifest_runtime.runtime.run import node_runner, run_node


def _both(raw: Any, value: Any, ctx: EvalContext) -> tuple[Any, Any]:
    """(run_node's outcome, node_runner's): each the output or ("error", diagnostic)."""
    node, _ = compile_raw(raw)
    out = []
    for run in (lambda v, c: run_node(node, v, c), node_runner(node)):
        try:
            out.append(run(value, ctx))
        except EvaluationError as exc:
            out.append(("error", exc.diagnostic))
    return out[0], out[1]


@pytest.mark.parametrize("raw, value, custom", [
    ({"!jq": ".a + ${custom_data.x.value}"}, {"a": "b"}, {"x": {"value": "c"}}),
    ({"!jq": ".a + ${custom_data.x.value}"}, {"a": 1}, {"x": {"value": "c"}}),  # jq error
    ({"!jq": ".a + ${custom_data.y.value}"}, {"a": "b"}, {"x": {"value": "c"}}),  # missing
    ({"!jq": "${resource.id}"}, None, {}),  # a root that is not there: "available: ..."
    ({"!jq": ". + ${piped_content.0}"}, 2, {}),  # reads piped_content: the usual way
    ({"!jq": "[.[] | . * 2]"}, [1, 2], {}),  # no expansion
    ({"!jq": "error(\"no\")"}, 1, {}),
    ({"!pipe": [{"!jq": ". + 1"}, {"!jq": ". * ${custom_data.n}"}]}, 1, {"n": 3}),
])
def test_the_runner_gives_run_nodes_outputs_and_errors(raw: Any, value: Any,
                                                        custom: dict[str, Any]) -> None:
    expected, got = _both(raw, value, EvalContext.create(custom_data=custom,
                                                         reload_data=False))
    assert got == expected


def test_expansions_are_read_again_when_their_root_changes() -> None:
    node, _ = compile_raw({"!jq": "{tag: \"${custom_data.tag.value | default}\", id: .id}"})
    run = node_runner(node)
    first = EvalContext.create(custom_data={"tag": {"value": "vip"}}, reload_data=False)
    assert [run({"id": i}, first) for i in range(3)] == [
        {"tag": "vip", "id": 0}, {"tag": "vip", "id": 1}, {"tag": "vip", "id": 2}]
    other = EvalContext.create(custom_data={"tag": {"value": "new"}}, reload_data=False)
    assert run({"id": 3}, other) == {"tag": "new", "id": 3}
    assert run({"id": 4}, first) == {"tag": "vip", "id": 4}  # and back
    none = EvalContext.create(custom_data={}, reload_data=False)
    assert run({"id": 5}, none) == {"tag": "", "id": 5}


def test_a_repeated_value_runs_specialized_with_the_same_results() -> None:
    """From the second record on, the program runs specialized to the expansions' values
    (folded `if`): same outputs as libjq gives, errors included."""
    raw = {"!jq": ".m | {email} + {_tags: ([\"x\"] + (if \"${custom_data.t.value | default}\""
                  " == \"\" then [] else [\"${custom_data.t.value | default}\"] end))}"}
    node, _ = compile_raw(raw)
    assert node.node is not None
    run = node_runner(node)
    for custom, tags in (({"t": {"value": "vip"}}, ["x", "vip"]), ({}, ["x"])):
        ctx = EvalContext.create(custom_data=custom, reload_data=False)
        for i in range(4):
            assert run({"m": {"email": f"{i}@x.test"}}, ctx) == {"email": f"{i}@x.test",
                                                                  "_tags": tags}
        with pytest.raises(EvaluationError) as info:
            run({"m": 5}, ctx)  # libjq's error, as run_node gives it
        expected, _ = _both(raw, {"m": 5}, ctx)
        assert info.value.diagnostic == expected[1]
    kept = node.node._bound[0]  # the last values, seen again: their specialized program
    assert kept[1] == [""] and kept[3] and kept[2] is not node.node.run_all
    assert node.node.program.stats[0] >= 8  # the records ran on the fast path
