"""Pointers by name (pointer_names.py) and `eval --list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manifest_runtime.cli import main
from manifest_runtime.compile import load_and_compile
from manifest_runtime.pointer_names import evaluable, named, resolve

ROOT = Path(__file__).resolve().parents[2]
AT = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
TW = str(ROOT / "examples/twilio-sms/manifest.json")

DATA = {"workflows": [{"name": "a", "setup": {"select": {"form_fields": [
    {"id": "group"}, {"id": "7"}]}}}, {"name": "b"}],
    "data_intake": [{"name": "hook", "create": {"!pipe": [{"!jq": "."}]}}]}


@pytest.mark.parametrize(("given", "expected"), [
    (("workflows", "b"), ("workflows", 1)),
    (("workflows", "a", "setup", "select", "form_fields", "group"),
     ("workflows", 0, "setup", "select", "form_fields", 0)),
    (("workflows", 0, "setup", "select", "form_fields", 1),
     ("workflows", 0, "setup", "select", "form_fields", 1)),
    (("data_intake", "hook", "create", "!pipe", 0), ("data_intake", 0, "create", "!pipe", 0)),
    (("workflows", "nope", "setup"), ("workflows", "nope", "setup")),  # left for no-such-node
])
def test_resolve(given: tuple[str | int, ...], expected: tuple[str | int, ...]) -> None:
    assert resolve(DATA, given) == expected


def test_named_is_the_reverse_and_keeps_numeric_ids_as_indexes() -> None:
    assert named(DATA, ("workflows", 0, "setup", "select", "form_fields", 0)) == \
        ("workflows", "a", "setup", "select", "form_fields", "group")
    assert named(DATA, ("workflows", 0, "setup", "select", "form_fields", 1))[-1] == 1


@pytest.mark.parametrize("manifest", [AT, TW])
def test_every_listed_pointer_resolves_to_its_command(manifest: str) -> None:
    from manifest_runtime.model import Command
    from manifest_runtime.paths import from_pointer

    compiled = load_and_compile(manifest)
    found = evaluable(compiled)
    assert found
    for e in found:
        node = compiled.node_at(resolve(compiled.data, from_pointer(e.by_name)))
        assert isinstance(node, Command) and node.name == e.command
        assert resolve(compiled.data, from_pointer(e.by_name)) == from_pointer(e.pointer)


def test_eval_by_name_gives_what_eval_by_index_gives(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    cassette = str(ROOT / "examples/activetrail-contacts/cassette.yaml")
    outs = []
    for pointer in ("/workflows/0/setup/connect/describe_connection",
                    "/workflows/activetrail-member-to-contact/setup/connect/describe_connection"):
        assert main(["eval", AT, pointer, "--replay", cassette]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1] == {"account_id": "48213",
                                  "description": "Example Garden Supplies Ltd"}


def test_eval_list_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", AT, "--list"]) == 0
    out = capsys.readouterr().out
    assert "!pipe      /workflows/activetrail-member-to-contact/setup/select/form_fields/" \
        "group/options  (/workflows/0/setup/select/form_fields/0/options)" in out
    assert "  !http      /data_intake/member_added/create/!pipe/0" in out
    assert main(["eval", TW, "--list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["ok"] is True
    source = [c for c in listed["commands"] if c["pointer"] == "/workflows/0/data_pipeline/source"]
    assert source == [{"pointer": "/workflows/0/data_pipeline/source",
                       "by_name": "/workflows/twilio-send-a-message/data_pipeline/source",
                       "command": "!resource", "depth": 0}]


def test_unknown_name_is_no_such_node_with_the_nearest(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    assert main(["eval", AT, "/workflows/activetrail/data_pipeline/source"]) == 1
    err = capsys.readouterr().err
    assert "error[no-such-node]" in err and "nearest:" in err


def test_eval_json_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", AT, "/workflows/0/data_pipeline/source", "--input",
                 '{"member": "x"}', "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["error"]["code"] == "jq-runtime"
    assert out["error"]["line"] is not None and out["error"]["file"] == AT
    assert main(["eval", AT, "--format", "json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["error"]["code"] == "usage" and "POINTER" in out["error"]["message"]
