"""`manifest-runtime setup` from the command line: the bundled example offline, a live
loopback API (credential precedence, a refused token, recording), usage errors, and
manifest commands that fail or produce unusable options."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from manifest_runtime.cli import main
from manifest_runtime.state import StateFile

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "activetrail-contacts"
MANIFEST = str(EXAMPLE / "manifest.yaml")
ANSWERS = str(EXAMPLE / "answers.yaml")
CASSETTE = str(EXAMPLE / "cassette.yaml")
LEADS = str(ROOT / "tests" / "setup" / "manifests" / "leads.yaml")
HOST = "https://webapi.mymarketing.co.il"
WORKFLOW = "activetrail-member-to-contact"
SECRET = "SECRET-token-0123"


def saved(state: Path, workflow: str = WORKFLOW) -> dict[str, object] | None:
    with StateFile(str(state)) as opened:
        setup = opened.load_setup(workflow)
    return None if setup is None else setup.as_json()


def pairs(*sides: tuple[str, str]) -> dict[str, object]:
    """The saved mapping of ungrouped (source id, target id) pairs, in answer order."""
    return {"$pairs": [{"source": s, "target": t} for s, t in sides]}


def test_bundled_example_sets_up_offline(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """examples/activetrail-contacts: answers.yaml + cassette.yaml (which holds the token
    check GET /account/balance too), no credentials and no network."""
    state = tmp_path / "state.db"
    code = main(["setup", MANIFEST, "--answers", ANSWERS, "--replay", CASSETTE,
                 "--state", str(state)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    assert "connection: Example Garden Supplies Ltd (account 48213)" in out
    assert "Group: Group 7 (1007)" in out
    assert saved(state) == {
        "workflow": WORKFLOW,
        "connection": {"account_id": "48213", "description": "Example Garden Supplies Ltd"},
        "custom_data": {"group": {"value": "1007", "display": "Group 7"},
                        "tag": {"value": "vip", "display": "vip"}},
        "mapping": pairs(("email", "email"), ("first_name", "firstName"),
                         ("last_name", "lastName"), ("sms", "phone")),
        "selection": {"resource_id": "1007", "display": "Group 7"},
        "schedule": None,
        "credentials": None,
    }


def test_setting_up_again_replaces_the_saved_setup(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.db"
    assert main(["setup", MANIFEST, "--answers", ANSWERS, "--replay", CASSETTE,
                 "--state", str(state)]) == 0
    answers = yaml.safe_load(Path(ANSWERS).read_text(encoding="utf-8"))
    answers["custom_data"] = {"group": "1100"}
    other = tmp_path / "answers.json"
    other.write_text(json.dumps(answers), encoding="utf-8")
    assert main(["setup", MANIFEST, "--answers", str(other), "--replay", CASSETTE,
                 "--state", str(state)]) == 0
    capsys.readouterr()
    setup = saved(state)
    assert setup is not None
    assert setup["custom_data"] == {"group": {"value": "1100", "display": "Group 100"}}


def live(api: str, tmp_path: Path, *extra: str, answers: dict[str, object] | None = None
         ) -> list[str]:
    data = yaml.safe_load(Path(ANSWERS).read_text(encoding="utf-8"))
    data.update(answers or {})
    file = tmp_path / "answers.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return ["setup", MANIFEST, "--answers", str(file), "--remap", f"{HOST}={api}",
            "--state", str(tmp_path / "state.db"), *extra]


# where the token comes from: (file, environment, answers) -> the one the API accepts wins
PRECEDENCE = [
    pytest.param("demo-token", None, None, id="credentials file"),
    pytest.param("SECRET-from-file", "demo-token", None, id="environment over file"),
    pytest.param("SECRET-from-file", "SECRET-from-env", "demo-token",
                 id="answers over file and environment"),
]


@pytest.mark.parametrize(("in_file", "in_env", "in_answers"), PRECEDENCE)
def test_credentials_precedence_against_a_live_api(
        activetrail_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], in_file: str, in_env: str | None,
        in_answers: str | None) -> None:
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"activetrail-token": {"token": in_file}}))
    if in_env is not None:
        monkeypatch.setenv("MANIFEST_RUNTIME_TOKEN", in_env)
    answers = {"credentials": {"token": in_answers}} if in_answers is not None else None
    argv = live(activetrail_api, tmp_path, "--credentials", str(creds), answers=answers)
    assert main(argv) == 0  # the fake API accepts only demo-token
    captured = capsys.readouterr()
    assert "credentials: verified: GET https://webapi.mymarketing.co.il/api/account/balance " \
        "-> HTTP 200" in captured.out
    assert "SECRET" not in captured.out + captured.err
    setup = saved(tmp_path / "state.db")
    assert setup is not None and setup["credentials"] == {"token": "demo-token"}


def test_a_refused_token_is_a_clear_error(activetrail_api: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    argv = live(activetrail_api, tmp_path, "--trace", answers={"credentials": {"token": SECRET}})
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "error[credentials-refused]: the credentials for 'activetrail-token' were " \
        "refused: HTTP 401" in err
    assert "at /auth/activetrail-token/verify_url" in err and "hint: check the token" in err
    assert "[auth-verify] -> 401" in err  # --trace shows the attempt
    assert SECRET not in out + err and "Traceback" not in err
    assert saved(tmp_path / "state.db") is None


def test_no_token_anywhere(activetrail_api: str, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(live(activetrail_api, tmp_path)) == 1
    err = capsys.readouterr().err
    assert "error[credentials-missing]: the auth 'activetrail-token' (token) needs token" in err
    assert "MANIFEST_RUNTIME_TOKEN" in err


def test_recording_keeps_the_token_check_and_no_secret(
        activetrail_api: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cassette = tmp_path / "rec.yaml"
    argv = live(activetrail_api, tmp_path, "--record", str(cassette),
                answers={"credentials": {"token": "demo-token"}})
    assert main(argv) == 0
    text = cassette.read_text(encoding="utf-8")
    assert "demo-token" not in text
    urls = [i["request"]["url"] for i in yaml.safe_load(text)["interactions"]]
    assert urls[:2] == [f"{HOST}/api/account/balance", f"{HOST}/api/account"]
    capsys.readouterr()
    # ... and the recording replays the whole setup offline
    assert main(["setup", MANIFEST, "--answers", ANSWERS, "--replay", str(cassette),
                 "--state", str(tmp_path / "replayed.db")]) == 0
    capsys.readouterr()


def test_without_a_terminal_answers_are_needed(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["setup", MANIFEST]) == 2
    err = capsys.readouterr().err
    assert "stdin is not one; pass --answers FILE" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--answers", ANSWERS, "--record", "a.yaml", "--replay", CASSETTE],
     "--record and --replay cannot be used together"),
    (["--answers", "no-such-answers.yaml"], "--answers: no such file: no-such-answers.yaml"),
    (["--answers", ANSWERS, "--workflow", "nope"], "the manifest has no workflow 'nope'"),
    (["--answers", ANSWERS, "--remap", "nonsense"], "--remap"),
    (["--answers", ANSWERS, "--save-secrets"], "--save-secrets goes with --save-answers"),
    (["--answers", ANSWERS, "--record-mode", "new"], "--record-mode goes with --record"),
])
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
                      ) -> None:
    assert main(["setup", MANIFEST, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_and_invalid_manifests(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    assert main(["setup", str(tmp_path / "nope.yaml"), "--answers", ANSWERS]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text('$version: "2"\nworkflows: []\n')
    assert main(["setup", str(bad), "--answers", ANSWERS]) == 1
    err = capsys.readouterr().err
    assert "invalid; fix the errors" in err


def test_an_empty_answers_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "answers.yaml"
    empty.write_text("")
    assert main(["setup", MANIFEST, "--answers", str(empty), "--replay", CASSETTE]) == 1
    assert "error[empty]: the answers file is empty" in capsys.readouterr().err


def test_a_failing_options_command_is_located(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The cassette answers the connect step but not the stage options: the options
    command's error is shown where it happened, as eval shows it."""
    full = yaml.safe_load((ROOT / "tests/setup/manifests/leads.cassette.yaml").read_text())
    short = tmp_path / "short.yaml"
    short.write_text(yaml.safe_dump({"version": 1, "interactions": full["interactions"][:2]}))
    answers = tmp_path / "answers.yaml"
    answers.write_text("credentials: {subdomain: acme}\ncustom_data: {pipeline: sales}\n")
    assert main(["setup", LEADS, "--answers", str(answers), "--replay", str(short),
                 "--state", str(tmp_path / "s.db")]) == 1
    err = capsys.readouterr().err
    assert "leads.yaml:" in err and "error[replay-unmatched]" in err
    assert "/workflows/0/setup/select/form_fields/1/options" in err
    assert "Traceback" not in err


def test_options_that_are_not_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("""$version: "2"
api: {base_url: https://api.example.com}
auth:
  t:
    type: token
    header_key: Authorization
    verify_url: https://api.example.com/me
    defined_fields: {token: {label: Token, placeholder: t, help_text: t}}
workflows:
  - name: out
    label: Example - Out
    type: automations
    auth: t
    setup:
      connect: {label: Connect, describe_connection: !jq '{account_id: "a", description: "b"}'}
      select:
        label: Pick
        form_fields:
          - {label: Color, id: color, type: dropdown, options: !jq '{display: "Red"}'}
    data_pipeline:
      source: !resource ActiveCampaignContact
      target: !jq "."
""")
    cassette = tmp_path / "c.yaml"
    cassette.write_text(yaml.safe_dump({"version": 1, "interactions": [
        {"request": {"method": "GET", "url": "https://api.example.com/me", "query": {},
                     "body": None}, "response": {"status": 200, "body": {}}}]}))
    answers = tmp_path / "a.yaml"
    answers.write_text("custom_data: {color: red}\n")
    assert main(["setup", str(manifest), "--answers", str(answers), "--replay", str(cassette),
                 "--state", str(tmp_path / "s.db")]) == 1
    err = capsys.readouterr().err
    assert "m.yaml:19:" in err and "error[options-shape]" in err
    assert "the options of field 'color' produced {\"display\":\"Red\"}, not a list" in err
