"""The loader: every bad file gives a located error, never a traceback or a hang."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from manifest_runtime.errors import ManifestLoadError, UsageError
from manifest_runtime.source import MAX_DEPTH, load_file

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "cases.yaml").read_text())


def _problem(path: Path) -> Any:
    try:
        loaded = load_file(str(path))
    except ManifestLoadError as exc:
        return exc.diagnostic
    assert loaded.diagnostics, f"{path.name} loaded without problems"
    return loaded.diagnostics[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_gives_located_error(name: str) -> None:
    want = CASES[name]
    d = _problem(HERE / "cases" / name)
    assert (d.code, d.line, d.column) == (want["code"], want["line"], want["column"]), d
    assert want["message"] in d.message
    assert d.snippet is not None, "a located load error shows its source line"
    if want.get("hint"):
        assert d.hint, d


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    for suffix, text in ((".json", "[" * 10_000 + "]" * 10_000),
                         (".yaml", "a: " + "[" * 10_000 + "]" * 10_000)):
        f = tmp_path / f"deep{suffix}"
        f.write_text(text)
        with pytest.raises(ManifestLoadError) as info:
            load_file(str(f))
        d = info.value.diagnostic
        # our contract (code, a location, our limit named), whatever the YAML library says
        assert d.code == "syntax" and d.line == 1 and d.column is not None, d
        assert f"deeper than {MAX_DEPTH}" in d.message


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    f = tmp_path / "big.json"
    with f.open("wb") as out:
        out.truncate(50 * 1024 * 1024)
    with pytest.raises(ManifestLoadError) as info:
        load_file(str(f))
    assert info.value.diagnostic.code == "too-large"
    assert "the file is 50 MiB; manifests are limited to 10 MiB" in info.value.diagnostic.message


@pytest.mark.parametrize("levels", [5, 7, 12])
def test_yaml_alias_bomb_is_refused_at_once(tmp_path: Path, levels: int) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    f = tmp_path / "bomb.yaml"
    f.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(ManifestLoadError) as info:
        load_file(str(f))
    assert time.perf_counter() - started < 1.0  # sized before anything is built
    d = info.value.diagnostic
    assert "aliases expand the manifest to" in d.message and "alias bomb" in d.message
    assert d.line is not None and d.line > 1  # at an anchored value, not the top of the file


def test_yaml_aliases_in_moderation_are_expanded(tmp_path: Path) -> None:
    f = tmp_path / "anchors.yaml"
    f.write_text("base: &b {method: GET, headers: {Accept: application/json}}\n"
                 "steps: [*b, *b, *b]\n")
    data = load_file(str(f)).data
    assert data["steps"] == [data["base"]] * 3


def test_yaml_merge_key_override_is_not_a_duplicate(tmp_path: Path) -> None:
    # the reviewer's t37: a key written next to `<<` overrides the merged one
    f = tmp_path / "merge.yaml"
    f.write_text("steps:\n"
                 "  - !http\n"
                 "      <<: &req {method: GET, path: /y}\n"
                 "      method: POST\n"
                 "  - !http {<<: *req, path: /z}\n"
                 "  - {<<: [{a: 1, b: 1}, {a: 2, c: 2}], c: 3}\n")
    loaded = load_file(str(f))
    assert loaded.diagnostics == ()
    assert loaded.data["steps"] == [
        {"!http": {"method": "POST", "path": "/y"}},
        {"!http": {"method": "GET", "path": "/z"}},
        {"a": 1, "b": 1, "c": 3},  # of merged mappings the first wins
    ]
    # a merged value is located where it is written (at the anchor)
    assert loaded.source.locate(("steps", 1, "!http", "method")) == (3, 25)
    assert loaded.source.locate(("steps", 0, "!http", "method")) == (4, 15)


def test_yaml_command_tags_mean_the_json_form(tmp_path: Path) -> None:
    f = tmp_path / "tags.yaml"
    f.write_text('a: !jq ".email"\nb: !pipe\n  - !http {method: GET, path: /me}\n'
                 "c: !resource ActiveCampaignContact\n")
    data = load_file(str(f)).data
    assert data == {
        "a": {"!jq": ".email"},
        "b": {"!pipe": [{"!http": {"method": "GET", "path": "/me"}}]},
        "c": {"!resource": "ActiveCampaignContact"},
    }


def test_positions_of_json_values_and_string_characters(tmp_path: Path) -> None:
    f = tmp_path / "m.json"
    f.write_text('{\n  "w": [\n    {"jq": "${x}"}\n  ]\n}')
    source = load_file(str(f)).source
    assert source.locate(("w", 0, "jq")) == (3, 12)
    assert source.locate_in_string(("w", 0, "jq"), 2) == (3, 15)
    assert source.locate(("w", 0, "missing")) == (3, 5)


def test_yaml_keys_are_the_text_as_written(tmp_path: Path) -> None:
    """JSON keys are strings: YAML's `on`, `~` and `1.50` keys stay that text, values keep
    their YAML types."""
    file = tmp_path / "m.yaml"
    file.write_text("headers: {on: yes, ~: 3, 1.50: y, 'quoted': 1}\n")
    assert load_file(str(file)).data == {"headers": {"on": True, "~": 3, "1.50": "y",
                                                     "quoted": 1}}


def test_max_bytes_variable_is_read_when_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "m.json"
    f.write_text('{"$version": "2"}' + " " * 100)
    monkeypatch.setenv("MANIFEST_RUNTIME_MAX_BYTES", "50")
    with pytest.raises(ManifestLoadError) as info:
        load_file(str(f))
    assert info.value.diagnostic.code == "too-large"
    assert "the file is 117 bytes; manifests are limited to 50 bytes" in (
        info.value.diagnostic.message)
    monkeypatch.setenv("MANIFEST_RUNTIME_MAX_BYTES", "")  # empty: the default
    assert load_file(str(f)).data == {"$version": "2"}


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_bad_max_bytes_variable_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    f = tmp_path / "m.json"
    f.write_text('{"$version": "2"}')
    monkeypatch.setenv("MANIFEST_RUNTIME_MAX_BYTES", value)
    with pytest.raises(UsageError, match="MANIFEST_RUNTIME_MAX_BYTES"):
        load_file(str(f))


def test_json_positions_are_found_on_demand(tmp_path: Path) -> None:
    """A JSON manifest's positions cost nothing until a diagnostic asks; then key and value
    ranges are exact, and a string with escapes has no 1:1 character map."""
    from manifest_runtime.source import JsonSourceMap

    f = tmp_path / "m.json"
    f.write_text('{\n  "a": {"k": [1, {"x": "tab\\\\t"}]},\n  "b": "plain",\n  "a": {"k": 2}\n}\n')
    loaded = load_file(str(f))
    source = loaded.source
    assert isinstance(source, JsonSourceMap)
    assert loaded.data == {"a": {"k": 2}, "b": "plain"}  # the duplicate's last value wins
    assert [d.code for d in loaded.diagnostics] == ["duplicate-key"]
    key = source.place(("b",), key=True)
    assert key is not None and (key.line, key.column, key.end_line, key.end_column) == (3, 3, 3, 6)
    value = source.place(("b",))
    assert value is not None and (value.column, value.end_column) == (8, 15)
    assert value.snippet == '  "b": "plain",'
    assert source.locate_in_string(("b",), 2) == (3, 11)
    assert source.locate(("a", "k")) == (4, 14)  # the later "a", as in the data
    assert source.string_start(("a", "k", 1, "x")) is None  # no: it was overwritten
    f.write_text('{"s": "a\\tb", "t": "ab"}')
    escaped = load_file(str(f)).source
    assert escaped.string_start(("s",)) is None and escaped.string_start(("t",)) == (1, 21)


def test_a_valid_json_manifest_computes_no_position(tmp_path: Path) -> None:
    from manifest_runtime.compile import compile_manifest
    from manifest_runtime.source import JsonSourceMap

    root = Path(__file__).resolve().parents[2]
    loaded = load_file(str(root / "tests/validate/valid/schema-key.json"))
    compiled = compile_manifest(loaded, notes=False)
    assert compiled.diagnostics == ()
    assert isinstance(loaded.source, JsonSourceMap) and not loaded.source._listed


def test_a_tagged_key_is_reported_once_and_its_command_tag_read_on_the_value(
        tmp_path: Path) -> None:
    """`!jq x: .a` in an anchored mapping merged twice: one `tagged-key` (at the key, where
    the tag is written), and the value read as `x: !jq .a` in both places; a value with a
    tag of its own keeps it."""
    f = tmp_path / "m.yaml"
    f.write_text("base: &b {!jq x: .a, !jq y: !pipe [.b]}\none: {<<: *b}\ntwo: {<<: *b}\n")
    loaded = load_file(str(f))
    assert [(d.code, d.line, d.column, d.pointer) for d in loaded.diagnostics] == [
        ("tagged-key", 1, 11, "/base/x"), ("tagged-key", 1, 22, "/base/y")]
    assert loaded.data["one"] == loaded.data["two"] == loaded.data["base"] == {
        "x": {"!jq": ".a"}, "y": {"!pipe": [".b"]}}
