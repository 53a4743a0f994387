"""`manifest-runtime eval`: output, located errors, pointers, custom data, trace, state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from manifest_runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent
AT = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
INVALID = str(ROOT / "tests/validate/invalid/unknown-key-workflow.yaml")
SOURCE = "/workflows/0/data_pipeline/source"
PAYLOAD = '{"member": {"email": "a@b.c", "first_name": "A", "last_name": "B", "sms": "1"}}'


def test_prints_the_output_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", AT, SOURCE, "--input", PAYLOAD, "--custom-data", '{"tag": "vip"}'])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["_tags"] == ["activetrail", "vip"]
    assert out.startswith("{\n  ")


def test_input_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "in.json"
    file.write_text(PAYLOAD)
    assert main(["eval", AT, SOURCE, "--input", f"@{file}"]) == 0
    assert json.loads(capsys.readouterr().out)["email"] == "a@b.c"


def test_custom_data_full_form(capsys: pytest.CaptureFixture[str]) -> None:
    pointer = "/workflows/0/setup/select/describe_selection/display"
    data = '{"group": {"value": "5", "display": "VIP members"}}'
    assert main(["eval", AT, pointer, "--custom-data", data]) == 0
    assert json.loads(capsys.readouterr().out) == "VIP members"


def test_evaluation_error_is_located(capsys: pytest.CaptureFixture[str]) -> None:
    pointer = "/workflows/0/setup/select/describe_selection/display"
    assert main(["eval", AT, pointer]) == 1
    err = capsys.readouterr().err
    assert "manifest.yaml:" in err and "error[missing-reference]" in err
    assert "at /workflows/0/setup/select/describe_selection/display" in err
    assert "^" in err and "hint:" in err and "Traceback" not in err


def test_absent_pointer_suggests_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", AT, "/workflows/0/data_pipeline/sorce"]) == 1
    err = capsys.readouterr().err
    assert "error[no-such-node]" in err and "/workflows/0/data_pipeline/source" in err


def test_malformed_pointer_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", AT, "workflows/0"]) == 2
    assert "malformed pointer" in capsys.readouterr().err


def test_bad_input_json_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", AT, SOURCE, "--input", "{nope"]) == 2
    assert "--input" in capsys.readouterr().err


def test_invalid_manifest_prints_errors_and_exits_1(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    assert main(["eval", INVALID, "/workflows/0"]) == 1
    assert "error[unknown-key]" in capsys.readouterr().err


def test_trace_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", AT, SOURCE, "--input", PAYLOAD, "--trace"]) == 0
    captured = capsys.readouterr()
    assert f"trace: {SOURCE} !jq" in captured.err
    assert "input:" in captured.err and "variables:" in captured.err
    assert "trace:" not in captured.out


def test_state_keeps_saved_data_between_runs(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(Path(AT).read_text().replace(
        "delete: !http",
        "update: !pipe [!jq '{n: 1}', !save {scope: workflow}]\n    delete: !http"))
    state = str(tmp_path / "state.db")
    assert main(["eval", str(manifest), "/data_intake/0/update", "--state", state]) == 0
    capsys.readouterr()
    # the second run sees what the first saved: the delete's ${data.workflow.webhook_id}
    # fails before any request, naming the one saved key
    code = main(["eval", str(manifest), "/data_intake/0/delete", "--state", state])
    err = capsys.readouterr().err
    assert code == 1
    assert "error[missing-reference]" in err and "it has: n" in err


@pytest.mark.parametrize("option", [["--max-attempts", "0"], ["--timeout", "-1"],
                                    ["--max-attempts", "x"]])
def test_bad_http_option_is_a_usage_error(option: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", AT, SOURCE, *option])
    assert exit_info.value.code == 2
    assert option[0] in capsys.readouterr().err


def test_a_container_of_several_commands_needs_all(capsys: pytest.CaptureFixture[str]) -> None:
    """eval runs one command: a whole workflow would register webhooks and send messages."""
    assert main(["eval", AT, "/workflows/0"]) == 2
    err = capsys.readouterr().err
    assert "holds 7 commands" in err and "and 2 more" in err
    assert "--all" in err
    pointer = "/workflows/0/setup/select/describe_selection"
    assert main(["eval", AT, pointer, "--all", "--custom-data", '{"group": "7"}']) == 0
    assert json.loads(capsys.readouterr().out) == {"resource_id": "7", "display": "7"}


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_text("not sqlite at all, just text" * 10), "cannot use it"),
    (lambda p: None, "does not exist"),
])
def test_unusable_state_file_is_a_usage_error(tmp_path: Path, make: Any, says: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "state.db"
    if says == "does not exist":
        target = tmp_path / "missing-dir" / "state.db"
    make(target)
    assert main(["eval", AT, SOURCE, "--input", PAYLOAD, "--state", str(target)]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not (tmp_path / "missing-dir").exists()


def test_resource_root_comes_from_the_option(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((ROOT / "tests/validate/valid/base.yaml").read_text())
    data["workflows"][0]["data_pipeline"]["source"] = {"!jq": "\"${resource.id}\""}
    file = tmp_path / "m.yaml"
    file.write_text(yaml.safe_dump(data))
    args = ["eval", str(file), SOURCE]
    assert main([*args, "--resource", '{"id": 7, "display": "VIP"}']) == 0
    assert json.loads(capsys.readouterr().out) == "7"
    assert main(args) == 1
    assert "missing-reference" in capsys.readouterr().err


def test_subdomain_option_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from manifest_runtime.cli.http_options import http_service
    from manifest_runtime.compile import load_and_compile

    monkeypatch.setenv("MANIFEST_RUNTIME_SUBDOMAIN", "from-env")
    args = argparse.Namespace(credentials=None, record=None, replay=None, remap=[],
                              max_attempts=3, timeout=30.0, retry_unsafe=False,
                              subdomain="from-option")
    with http_service(args, load_and_compile(AT), "activetrail-token", trace=False) as http:
        assert http.subdomain == "from-option"
    args.subdomain = None
    with http_service(args, load_and_compile(AT), "activetrail-token", trace=False) as http:
        assert http.subdomain == "from-env"
