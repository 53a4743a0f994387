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
