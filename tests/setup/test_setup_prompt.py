"""`manifest-runtime setup` on a terminal: the real questionary prompts, driven through a
prompt_toolkit pipe input (keys as a terminal sends them) with a DummyOutput, through the
CLI. The steps and checks are the ones the answers-file tests cover; here: hidden secrets,
dropdown / multiselect / text / mapping prompts, guessed mapping defaults, and a refused
answer asked again."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.input.base import PipeInput
from prompt_toolkit.output import DummyOutput

from manifest_runtime.cli import main
from manifest_runtime.cli.setup_prompt import PromptAnswerer
from manifest_runtime.state import StateFile

ROOT = Path(__file__).resolve().parent.parent.parent
MANIFESTS = ROOT / "tests" / "setup" / "manifests"
EXAMPLE = ROOT / "examples" / "activetrail-contacts"
ENTER, DOWN, SPACE = "\r", "\x1b[B", " "


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PipeInput, io.StringIO]]:
    """The CLI's terminal answerer, reading keys from a pipe; yields (keys, shown text)."""
    shown = io.StringIO()
    with create_pipe_input() as keys:
        monkeypatch.setattr("manifest_runtime.cli.setup.terminal_answerer",
                            lambda: PromptAnswerer(input=keys, output=DummyOutput(), out=shown))
        yield keys, shown


def saved(state: Path, workflow: str) -> dict[str, object]:
    with StateFile(str(state)) as opened:
        setup = opened.load_setup(workflow)
    assert setup is not None
    return setup.as_json()


def pairs(*sides: tuple[str, str]) -> dict[str, object]:
    """The saved mapping of ungrouped (source id, target id) pairs, in answer order."""
    return {"$pairs": [{"source": s, "target": t} for s, t in sides]}


def test_leads_interactively_with_a_refused_mapping_asked_again(
        terminal: tuple[PipeInput, io.StringIO], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    keys, shown = terminal
    keys.send_text(
        "acme" + ENTER                      # subdomain (replaying: no secret is asked)
        + ENTER                             # Pipeline: the first option, Sales
        + SPACE + DOWN + SPACE + ENTER      # Stages: New and Qualified
        + DOWN + ENTER                      # Owner (optional): Grace
        + ENTER                             # Note (optional): left empty
        # map, first try: nothing mapped (company keeps its guessed Company) -> refused
        + ENTER + ENTER + ENTER + ENTER
        # second try: Email address -> typed filter "Email (email)"; the rest as guessed
        + "Email (email)" + ENTER + ENTER + ENTER + ENTER
        + DOWN + ENTER                      # Import: the second option, single
    )
    state = tmp_path / "state.db"
    code = main(["setup", str(MANIFESTS / "leads.yaml"), "--state", str(state),
                 "--replay", str(MANIFESTS / "leads.cassette.yaml")])
    out, err = capsys.readouterr()
    assert code == 0, err
    text = shown.getvalue()
    assert "== Connect Example CRM ==" in text and "Settings" in text
    assert "Only leads in these stages are imported." in text  # a field's help_text
    assert "✗ required target field not mapped: Email (email)" in text
    assert saved(state, "leads-in") == {
        "workflow": "leads-in",
        "connection": {"account_id": "ops@acme.test", "description": "Acme - ops@acme.test"},
        "custom_data": {"pipeline": {"value": "sales", "display": "Sales"},
                        "stages": {"value": ["s1", "s2"], "display": ["New", "Qualified"]},
                        "owner": {"value": 8, "display": "Grace"}},
        "mapping": pairs(("email_address", "email"), ("company", "1")),
        "selection": {"resource_id": "sales", "display": "Pipeline Sales"},
        "schedule": {"import_option": "single", "frequency": 1800},
        "credentials": {"subdomain": "acme"},
    }
    assert "setup of workflow 'leads-in'" in out


def test_token_typed_hidden_against_a_live_api(
        terminal: tuple[PipeInput, io.StringIO], activetrail_api: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong token is refused and asked again; the typed tokens never show. 130 groups
    are filtered by typing; the mapping defaults are guessed from ids."""
    keys, shown = terminal
    keys.send_text(
        "SECRET-wrong" + ENTER             # Access Token (password prompt): refused
        + "demo-token" + ENTER             # asked again
        + "Group 7" + ENTER                # type to filter the 130 groups: Group 7 first
        + "vip" + ENTER                    # Tag
        + ENTER + ENTER + ENTER + ENTER    # email, first_name, last_name guessed; sms unmapped
    )
    state = tmp_path / "state.db"
    code = main(["setup", str(EXAMPLE / "manifest.yaml"), "--state", str(state),
                 "--remap", f"https://webapi.mymarketing.co.il={activetrail_api}"])
    out, err = capsys.readouterr()
    text = shown.getvalue()
    assert code == 0, err + text
    assert "✗ the credentials for 'activetrail-token' were refused: HTTP 401" in text
    assert "SECRET" not in out + err + text and "demo-token" not in out + err + text
    setup = saved(state, "activetrail-member-to-contact")
    assert setup["custom_data"] == {"group": {"value": "1007", "display": "Group 7"},
                                    "tag": {"value": "vip", "display": "vip"}}
    assert setup["mapping"] == pairs(("email", "email"), ("first_name", "firstName"),
                                     ("last_name", "lastName"))
    assert setup["credentials"] == {"token": "demo-token"}


def test_a_refused_then_accepted_token_is_recorded_once_each(
        terminal: tuple[PipeInput, io.StringIO], activetrail_api: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A client per credentials try: --record-mode all applies to the first (the old
    recording goes), the second appends (both checks are kept)."""
    import yaml

    keys, _ = terminal
    keys.send_text("SECRET-wrong" + ENTER + "demo-token" + ENTER + "Group 7" + ENTER
                   + "vip" + ENTER + ENTER * 4)
    cassette = tmp_path / "rec.yaml"
    cassette.write_text("version: 1\ninteractions:\n- request: {method: GET, url: old}\n",
                        encoding="utf-8")
    code = main(["setup", str(EXAMPLE / "manifest.yaml"), "--state", str(tmp_path / "s.db"),
                 "--remap", f"https://webapi.mymarketing.co.il={activetrail_api}",
                 "--record", str(cassette), "--record-mode", "all"])
    assert code == 0, capsys.readouterr().err
    text = cassette.read_text(encoding="utf-8")
    entries = yaml.safe_load(text)["interactions"]
    checks = [e["response"]["status"] for e in entries
              if e["request"]["url"].endswith("/api/account/balance")]
    assert checks == [401, 200] and "old" not in [e["request"]["url"] for e in entries]
    assert "SECRET" not in text and "demo-token" not in text


def test_choosing_the_workflow(terminal: tuple[PipeInput, io.StringIO], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    keys, _ = terminal
    keys.send_text(
        DOWN + ENTER                       # the second workflow: send-fax
        # its map has no describe_target: each source gets a typed target id (empty: none)
        + ENTER + ENTER + ENTER            # email, firstName, lastName: not mapped
        + "fax_number" + ENTER             # phone -> fax_number
        + ENTER + ENTER                    # custom fields Company, Birthday: not mapped
    )
    state = tmp_path / "state.db"
    code = main(["setup", str(MANIFESTS / "sms-out.yaml"), "--state", str(state),
                 "--replay", str(MANIFESTS / "sms-out.cassette.yaml")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert saved(state, "send-fax")["mapping"] == pairs(("phone", "fax_number"))


def test_ctrl_d_stops_without_saving(terminal: tuple[PipeInput, io.StringIO], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    keys, _ = terminal
    keys.send_text("acme" + ENTER)
    keys.close()
    state = tmp_path / "state.db"
    code = main(["setup", str(MANIFESTS / "leads.yaml"), "--state", str(state),
                 "--replay", str(MANIFESTS / "leads.cassette.yaml")])
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    with StateFile(str(state)) as opened:
        assert opened.setups() == []


# -- issue 13.2: a failing command does not lose the answers; --save-answers ---------------

TWILIO = ROOT / "examples" / "twilio-sms"
UP = "\x1b[A"
TAB = "\t"


def twilio_setup(tmp_path: Path, *options: str) -> int:
    return main(["setup", str(TWILIO / "manifest.json"), "--state", str(tmp_path / "tw.db"),
                 "--replay", str(TWILIO / "cassette.yaml"), *options])


def test_twilio_clicked_through_with_any_message_text(
        terminal: tuple[PipeInput, io.StringIO], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The default project (Enter) has no numbers in the cassette: its options fail, the
    error is shown and the Project is asked again, nothing typed is lost. Any message text
    then replays: the cassette ignores the POSTs' Body. The answers become a headless run."""
    keys, shown = terminal
    text = "Hello %FIRSTNAME%, a text the cassette never saw"
    keys.send_text(
        ENTER                              # Project: the first, Example Garden Supplies
        + ENTER                            # its numbers fail; What now? Change 'Project'
        + DOWN + ENTER                     # Project: Spring Campaign
        + DOWN + ENTER                     # Spring promo line (+12025550173)
        + text + ENTER                     # Enter Message
        + ENTER * 12                       # map: no describe_target, every source unmapped
    )
    answers = tmp_path / "answers.yaml"
    code = twilio_setup(tmp_path, "--save-answers", str(answers))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "✗ error[replay-unmatched]" in shown.getvalue()
    assert "AC5ef8732a3c49700934481addd5ce1659/IncomingPhoneNumbers.json" in shown.getvalue()
    assert "Project: Spring Campaign (AC0b1d2e3f405162738495a6b7c8d9e0f1)" in out
    assert f"Enter Message: {text}" in out
    assert saved(tmp_path / "tw.db", "twilio-send-a-message")["custom_data"] == {
        "sub_account": {"value": "AC0b1d2e3f405162738495a6b7c8d9e0f1",
                        "display": "Spring Campaign"},
        "phone_number": {"value": "+12025550173", "display": "Spring promo line"},
        "message": {"value": text, "display": text}}
    assert main(["run", str(TWILIO / "manifest.json"), "--state", str(tmp_path / "tw.db"),
                 "--contacts", str(TWILIO / "contacts.jsonl"),
                 "--replay", str(TWILIO / "cassette.yaml")]) == 0
    assert "read 3, delivered 3, failed 0" in capsys.readouterr().out
    # the saved answers run the same setup headless
    saved_answers = answers.read_text(encoding="utf-8")
    assert "sub_account: AC0b1d2e3f405162738495a6b7c8d9e0f1" in saved_answers
    assert "AC5ef" not in saved_answers  # the answer changed after the failure
    assert main(["setup", str(TWILIO / "manifest.json"), "--answers", str(answers),
                 "--state", str(tmp_path / "again.db"),
                 "--replay", str(TWILIO / "cassette.yaml")]) == 0
    assert saved(tmp_path / "again.db", "twilio-send-a-message")["custom_data"] == \
        saved(tmp_path / "tw.db", "twilio-send-a-message")["custom_data"]


def test_quitting_after_a_failed_command_keeps_the_answers(
        terminal: tuple[PipeInput, io.StringIO], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    keys, _ = terminal
    keys.send_text(ENTER                   # Project: Example Garden Supplies
                   + UP + ENTER)           # What now? the last choice: Quit setup
    answers = tmp_path / "answers.yaml"
    code = twilio_setup(tmp_path, "--save-answers", str(answers))
    err = capsys.readouterr().err
    assert code == 1 and "error[replay-unmatched]" in err and "Traceback" not in err
    assert "answers saved to" in err and "(setup did not finish)" in err
    text = answers.read_text(encoding="utf-8")
    assert "# Setup did not finish" in text
    assert "sub_account: AC5ef8732a3c49700934481addd5ce1659" in text


def test_try_again_runs_the_command_again(terminal: tuple[PipeInput, io.StringIO],
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Try again: the same failing request, the same error (the cassette has no answer), and
    the choice again; then back to the Project."""
    keys, shown = terminal
    keys.send_text(ENTER + DOWN + ENTER    # Project; What now? Try again
                   + ENTER                 # fails again; Change 'Project'
                   + DOWN + ENTER + DOWN + ENTER + "hi" + ENTER + ENTER * 12)
    assert twilio_setup(tmp_path) == 0, capsys.readouterr().err
    assert shown.getvalue().count("✗ error[replay-unmatched]") == 2


def test_ctrl_c_saves_the_answers_so_far(terminal: tuple[PipeInput, io.StringIO],
                                         tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    keys, _ = terminal
    keys.send_text(DOWN + ENTER + DOWN + ENTER)  # Project and number, then Ctrl-D (EOF)
    keys.close()
    answers = tmp_path / "answers.yaml"
    assert twilio_setup(tmp_path, "--save-answers", str(answers)) == 130
    assert "answers saved to" in capsys.readouterr().err
    text = answers.read_text(encoding="utf-8")
    assert "phone_number: '+12025550173'" in text and "  message:" not in text
    assert "# Setup did not finish" in text


def test_saved_answers_leave_secrets_out_unless_asked(
        terminal: tuple[PipeInput, io.StringIO], activetrail_api: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    keys, _ = terminal
    for option in ((), ("--save-secrets",)):
        keys.send_text("demo-token" + ENTER + "Group 7" + ENTER + "vip" + ENTER + ENTER * 4)
        answers = tmp_path / "answers.yaml"
        code = main(["setup", str(EXAMPLE / "manifest.yaml"), "--state", str(tmp_path / "s.db"),
                     "--remap", f"https://webapi.mymarketing.co.il={activetrail_api}",
                     "--save-answers", str(answers), *option])
        assert code == 0, capsys.readouterr().err
        text = answers.read_text(encoding="utf-8")
        assert "group: '1007'" in text and "email: email" in text
        if option:
            assert "token: demo-token" in text and answers.stat().st_mode & 0o777 == 0o600
        else:
            assert "demo-token" not in text and "Not saved (secret): credentials token" in text
    assert "demo-token" not in capsys.readouterr().err


# -- issue 13.1: type-to-search (search_term) ---------------------------------------------


class GroupsApi:
    """GET /api/groups: the first two groups, or with ?q= the groups whose name starts with
    it; GET /api/groups/<id>/labels[?name=]. Every path+query asked is kept in `seen`."""

    def __init__(self) -> None:
        from loopback import Loopback, QuietHandler

        groups = [{"id": str(1000 + n), "name": f"Group {n}"} for n in range(1, 131)]
        labels = ["a", "b", "vip", "vivid"]
        self.seen: list[str] = []
        api = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                from urllib.parse import parse_qs, urlsplit

                api.seen.append(self.path)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/api/me":
                    return self.reply(200 if self.headers.get("X-Api-Key") == "k" else 401, {})
                if parts.path == "/api/groups":
                    q = query.get("q")
                    found = [g for g in groups if g["name"].startswith(q)] if q else groups[:2]
                    return self.reply(200, {"groups": found})
                name = query.get("name")
                return self.reply(200, {"labels": [x for x in labels if x.startswith(name)]
                                        if name else labels[:2]})

        class Server(Loopback):
            def handler(self) -> type[QuietHandler]:
                return Handler

        self.server = Server()

    def __enter__(self) -> str:
        return str(self.server.__enter__().url)

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__()


SEARCH = MANIFESTS / "search.yaml"


def test_type_to_search_asks_the_api(terminal: tuple[PipeInput, io.StringIO], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Typing re-runs the options command with ?q=<text>; keys that act on the list run the
    pending search first, and a long debounce shows that nothing is asked per keystroke."""
    monkeypatch.setattr("manifest_runtime.cli.setup_search.DEBOUNCE", 5.0)
    keys, shown = terminal
    keys.send_text("k" + ENTER                  # API key
                   + "Group 12" + ENTER         # search, choose the first: Group 12
                   + "vi" + DOWN + TAB + ENTER  # labels matching vi: the second, vivid
                   + "hello" + ENTER)           # Note
    api = GroupsApi()
    answers = tmp_path / "answers.yaml"
    with api as url:
        code = main(["setup", str(SEARCH), "--state", str(tmp_path / "s.db"),
                     "--remap", f"https://groups.example.com={url}",
                     "--save-answers", str(answers)])
    assert code == 0, capsys.readouterr().err
    assert api.seen == ["/api/me", "/api/groups", "/api/groups?q=Group+12",
                        "/api/groups/1012/labels", "/api/groups/1012/labels?name=vi"]
    assert saved(tmp_path / "s.db", "group-note")["custom_data"] == {
        "group": {"value": "1012", "display": "Group 12"},
        "labels": {"value": ["vivid"], "display": ["vivid"]},
        "note": {"value": "hello", "display": "hello"}}
    text = answers.read_text(encoding="utf-8")
    assert "search:\n  group: Group 12\n  labels: vi\n" in text
    assert "? Group Group 12 (1012)" in shown.getvalue()  # the answer, once the list is gone
    assert "? Labels (optional) vivid" in shown.getvalue()


def test_the_search_runs_when_typing_pauses(terminal: tuple[PipeInput, io.StringIO],
                                            tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Debounced: once the typing pauses the options are fetched in the background (the
    list changes before any key acts on it)."""
    import time

    monkeypatch.setattr("manifest_runtime.cli.setup_search.DEBOUNCE", 0.05)
    keys, _ = terminal
    api = GroupsApi()
    with api as url:
        keys.send_text("k" + ENTER + "Group 7")
        import threading

        result: list[int] = []
        worker = threading.Thread(target=lambda: result.append(main([
            "setup", str(SEARCH), "--state", str(tmp_path / "s.db"),
            "--remap", f"https://groups.example.com={url}"])))
        worker.start()
        deadline = time.monotonic() + 10
        while "/api/groups?q=Group+7" not in api.seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "/api/groups?q=Group+7" in api.seen  # no key pressed after the text
        keys.send_text(DOWN + ENTER + ENTER + "n" + ENTER)  # Group 70; no label; Note
        worker.join(10)
    assert result == [0], capsys.readouterr().err
    custom_data = saved(tmp_path / "s.db", "group-note")["custom_data"]
    assert custom_data["group"] == {"value": "1070", "display": "Group 70"}
    assert "labels" not in custom_data  # optional multiselect, Enter with none picked
