"""The studio drives the setup engine of `setup`: what it saves is what `setup --answers`
saves, its refusals are the engine's, its exported answers file runs headless, searching
sends the field's search_term, and no secret reaches the page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from httpx import Client

from manifest_runtime.cli import main
from manifest_runtime.state import StateFile

from .conftest import EXAMPLE, ROOT, WORKFLOW, Open

CASSETTE = str(EXAMPLE / "cassette.yaml")
MAPPING = {"email": "email", "first_name": "firstName", "last_name": "lastName",
           "sms": "phone"}


def _options(html: str) -> dict[str, str]:
    """display -> the index the page sends back, from a rendered <select>."""
    return {display: index for index, display in
            re.findall(r'<option value="(\d+)">([^<]*)</option>', html)}


def _answer(client: Client, kind: str, value: Any) -> dict[str, Any]:
    r = client.post("/api/setup/answer", json={"kind": kind, "value": value})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _saved(path: Path, workflow: str = WORKFLOW) -> dict[str, Any]:
    with StateFile(str(path)) as state:
        setup = state.load_setup(workflow)
    assert setup is not None
    return setup.as_json()


def _walk_activetrail(client: Client) -> dict[str, Any]:
    first = client.post("/api/setup/start", json={"workflow": WORKFLOW}).json()
    assert 'data-kind="credentials"' in first["html"]
    group = _answer(client, "credentials", {})
    assert 'data-kind="field"' in group["html"] and "Select a group" in group["html"]
    tag = _answer(client, "field", {"pick": [_options(group["html"])["Group 7"]], "search": ""})
    assert 'data-field="tag"' in tag["html"]
    assert "<tr><th>Group</th><td>Group 7</td></tr>" in tag["html"]  # answered above
    mapping = _answer(client, "field", {"value": "vip"})
    assert 'data-kind="mapping"' in mapping["html"]
    return _answer(client, "mapping", MAPPING)


def test_the_page_saves_what_setup_answers_saves(open_studio: Open, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    headless = tmp_path / "headless.db"
    assert main(["setup", str(EXAMPLE / "manifest.yaml"), "--answers",
                 str(EXAMPLE / "answers.yaml"), "--replay", CASSETTE,
                 "--state", str(headless)]) == 0
    page = tmp_path / "page.db"
    _, client = open_studio(EXAMPLE / "manifest.yaml", "--replay", CASSETTE, state=page)
    done = _walk_activetrail(client)
    assert done["saved"] and 'id="summary"' in done["html"]
    assert "Group: Group 7 (1007)" in done["html"]
    assert _saved(page) == _saved(headless)

    # the exported answers file runs headless and saves the same again
    exported = client.get("/api/setup/answers")
    assert exported.status_code == 200
    assert yaml.safe_load(exported.text) == {
        "workflow": WORKFLOW, "custom_data": {"group": "1007", "tag": "vip"},
        "mapping": MAPPING}
    answers = tmp_path / "exported.yaml"
    answers.write_text(exported.text)
    again = tmp_path / "again.db"
    assert main(["setup", str(EXAMPLE / "manifest.yaml"), "--answers", str(answers),
                 "--replay", CASSETTE, "--state", str(again)]) == 0
    assert _saved(again) == _saved(headless)
    capsys.readouterr()


def test_a_refused_answer_is_the_engines_message_and_is_asked_again(open_studio: Open
                                                                     ) -> None:
    _, client = open_studio(EXAMPLE / "manifest.yaml", "--replay", CASSETTE)
    client.post("/api/setup/start", json={"workflow": WORKFLOW})
    group = _answer(client, "credentials", {})
    again = _answer(client, "field", {"pick": [], "search": ""})  # required, nothing chosen
    assert 'data-code="field-required"' in again["html"]
    assert "&#x27;Group&#x27; (custom_data.group) is required" in again["html"]
    assert 'data-field="group"' in again["html"]  # the same question, asked again
    _answer(client, "field", {"pick": [_options(group["html"])["Group 7"]]})
    mapping = _answer(client, "field", {"value": ""})  # optional: skipped
    assert "Required targets *: Email (email)" in mapping["html"]
    refused = _answer(client, "mapping", {"first_name": "firstName"})
    assert 'data-code="mapping-required"' in refused["html"]
    assert "required target field not mapped: Email (email)" in refused["html"]
    done = _answer(client, "mapping", {"email": "email"})
    assert done["saved"]


def test_search_as_you_type_sends_the_search_term(open_studio: Open, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    manifests = ROOT / "tests/setup/manifests"
    replay = str(manifests / "search.cassette.yaml")
    headless_answers = tmp_path / "answers.yaml"
    headless_answers.write_text(yaml.safe_dump({
        "search": {"group": "Group 12", "labels": "vi"},
        "custom_data": {"group": "1012", "labels": ["vip"], "note": "hello"}}))
    headless = tmp_path / "headless.db"
    assert main(["setup", str(manifests / "search.yaml"), "--answers", str(headless_answers),
                 "--replay", replay, "--state", str(headless)]) == 0
    capsys.readouterr()

    studio, client = open_studio(manifests / "search.yaml", "--replay", replay,
                                 state=tmp_path / "page.db")
    client.post("/api/setup/start", json={"workflow": "group-note"})
    group = _answer(client, "credentials", {})
    assert 'class="search"' in group["html"] and "Group 12" not in group["html"]
    found = client.post("/api/setup/search", json={"text": "Group 12"}).json()
    assert found["kind"] == "options" and 'data-search="Group 12"' in found["html"]
    labels = _answer(client, "field", {"pick": [_options(found["html"])["Group 12"]],
                                       "search": "Group 12"})
    assert 'data-type="multiselect"' in labels["html"]
    found = client.post("/api/setup/search", json={"text": "vi"}).json()
    boxes = dict((d, i) for i, d in re.findall(
        r'<input type="checkbox" name="pick" value="(\d+)">([^<]*)</label>', found["html"]))
    note = _answer(client, "field", {"pick": [boxes["vip"]], "search": "vi"})
    assert 'data-field="note"' in note["html"]
    assert _answer(client, "field", {"value": "hello"})["saved"]
    assert _saved(tmp_path / "page.db", "group-note") == _saved(headless, "group-note")
    trace = client.get("/api/trace").json()["html"]
    assert "q=Group+12" in trace or "q=Group%2012" in trace  # the search text was sent
    assert "name=vi" in trace
    exported = yaml.safe_load(client.get("/api/setup/answers").text)
    assert exported["search"] == {"group": "Group 12", "labels": "vi"}
    assert studio.session is not None


def test_secrets_typed_on_the_page_never_come_back(open_studio: Open) -> None:
    _, client = open_studio(EXAMPLE / "manifest.yaml", "--replay", CASSETTE)
    first = client.post("/api/setup/start", json={"workflow": WORKFLOW}).json()
    assert '<input type="password" name="token"' in first["html"]
    group = _answer(client, "credentials", {"token": "tok-S3CRET-42"})
    assert 'data-field="group"' in group["html"]
    trace = client.get("/api/trace").json()["html"]
    assert "GET https://webapi.mymarketing.co.il/api/account" in trace
    assert "S3CRET" not in trace and "S3CRET" not in group["html"]
    assert "S3CRET" not in client.get("/api/setup/answers").text


def test_help_text_is_markdown_with_html_escaped() -> None:
    from manifest_runtime.studio.markdown import markdown

    html = markdown("Use **More > API** and <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>More &gt; API</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_personalized_textarea_offers_the_contact_tags(open_studio: Open, tmp_path: Path
                                                       ) -> None:
    example = ROOT / "examples/activetrail-actions"
    _, client = open_studio(example / "manifest.yaml", "--replay",
                            str(example / "cassette.yaml"))
    client.post("/api/setup/start", json={"workflow": "activetrail-send-message"})
    html = _answer(client, "credentials", {})["html"]
    for _ in range(5):  # the fields before the message: a text, or the first option
        if 'data-type="textarea"' in html:
            break
        assert 'data-kind="field"' in html, html
        if 'data-type="text"' in html:
            html = _answer(client, "field", {"value": "Studio"})["html"]
        else:
            html = _answer(client, "field", {"pick": list(_options(html).values())[:1]})["html"]
    assert 'data-type="textarea"' in html
    assert 'class="tags"' in html and "%FIRSTNAME%" in html and "%EMAIL%" in html


def test_grouped_targets_are_grouped_and_saved_as_setup_saves_them(
        open_studio: Open, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = ROOT / "tests/setup/manifests/deals-in.yaml"
    token = "SECRET-access-0123"
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text(yaml.safe_dump({"deals-oauth": {"access_token": token}}))
    answers = ROOT / "tests/setup/cases/deals-grouped/answers.yaml"
    headless = tmp_path / "headless.db"
    assert main(["setup", str(manifest), "--answers", str(answers), "--credentials",
                 str(credentials), "--state", str(headless)]) == 0
    capsys.readouterr()

    _, client = open_studio(manifest, state=tmp_path / "page.db")
    connect = client.post("/api/setup/start", json={"workflow": "deals-in"}).json()
    assert '<input type="password" name="access_token"' in connect["html"]
    board = _answer(client, "credentials", {"access_token": token})
    mapping = _answer(client, "field", {"value": "Q3 pipeline"})["html"]
    for group in ("contact", "account", "deal"):
        assert f'<optgroup label="{group}">' in mapping
    assert '<option value="deal.title">' in mapping and "Required targets *: Email" in mapping
    assert token not in mapping + board["html"]
    done = _answer(client, "mapping", {"buyer_email": "contact.email",
                                       "company": "account.name", "deal_name": "deal.title",
                                       "amount": "deal.value", "owner": "deal.owner"})
    assert done["saved"], done["html"]
    assert _saved(tmp_path / "page.db", "deals-in") == _saved(headless, "deals-in")


def test_schedule_step_of_a_polling_workflow(open_studio: Open, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    example = ROOT / "examples/email-api-polling"
    replay = str(example / "cassette.yaml")
    headless = tmp_path / "headless.db"
    assert main(["setup", str(example / "manifest.yaml"), "--answers",
                 str(example / "answers.yaml"), "--replay", replay,
                 "--state", str(headless)]) == 0
    capsys.readouterr()
    _, client = open_studio(example / "manifest.yaml", "--replay", replay,
                            state=tmp_path / "page.db")
    client.post("/api/setup/start", json={"workflow": "email-api-users"})
    location = _answer(client, "credentials", {})
    mapping = _answer(client, "field", {"pick": [_options(location["html"])["Garden Centre"]]})
    schedule = _answer(client, "mapping", {"email": "email", "first_name": "firstName",
                                           "last_name": "lastName", "phone": "phone"})
    html = schedule["html"]
    assert 'data-kind="schedule"' in html and "Polls every 1800 s." in html
    assert 'value="recurring" checked' in html
    assert "New and updated users are imported every 30 minutes." in html
    assert 'data-kind="mapping"' in mapping["html"]
    done = _answer(client, "schedule", {"import_option": "recurring"})
    assert done["saved"] and "schedule: recurring, every 1800 s" in done["html"]
    assert _saved(tmp_path / "page.db", "email-api-users") == \
        _saved(headless, "email-api-users")


def test_a_failing_options_command_offers_the_terminals_choices(open_studio: Open,
                                                                tmp_path: Path) -> None:
    """The groups request has no recorded answer: the failure is shown located in the
    manifest, with try again / quit (as on a terminal); quitting ends the setup."""
    cassette = yaml.safe_load((EXAMPLE / "cassette.yaml").read_text())
    cassette["interactions"] = [i for i in cassette["interactions"]
                                if not i["request"]["url"].endswith("/groups")]
    partial = tmp_path / "no-groups.yaml"
    partial.write_text(yaml.safe_dump(cassette))
    _, client = open_studio(EXAMPLE / "manifest.yaml", "--replay", str(partial))
    client.post("/api/setup/start", json={"workflow": WORKFLOW})
    failed = _answer(client, "credentials", {})
    html = failed["html"]
    assert 'data-kind="failure"' in html and 'class="diagnostic"' in html
    assert "manifest.yaml:" in html and "/groups" in html
    actions = re.findall(r'data-action="(\w+)"', html)
    assert actions == ["retry", "quit"]
    again = client.post("/api/setup/answer", json={"kind": "action", "value": "retry"}).json()
    assert 'data-kind="failure"' in again["html"]  # still no answer for it
    ended = client.post("/api/setup/answer", json={"kind": "action", "value": "quit"}).json()
    assert ended["kind"] == "finished" and not ended["saved"]
    assert 'data-kind="failed"' in ended["html"] and "Start again" in ended["html"]
    # a message after the end gets the end again
    assert client.post("/api/setup/answer", json={"kind": "mapping", "value": {}}
                       ).json()["kind"] == "finished"


def test_subdomain_between_the_base_url_parts_and_refused_credentials_asked_again(
        open_studio: Open) -> None:
    manifests = ROOT / "tests/setup/manifests"
    _, client = open_studio(manifests / "leads.yaml", "--replay",
                            str(manifests / "leads-refused.cassette.yaml"))
    connect = client.post("/api/setup/start", json={"workflow": "leads-in"}).json()["html"]
    assert ('<span class="affix">https://</span><input type="text" name="subdomain"' in connect
            and '<span class="affix">.crm.example.com/api</span>' in connect)
    assert "Find your key under <strong>Settings</strong>." in connect  # the step's help
    refused = _answer(client, "credentials", {"subdomain": "acme", "token": "k-TYPED-77"})
    html = refused["html"]
    assert 'data-code="credentials-refused"' in html
    assert "the credentials for &#x27;crm-token&#x27; were refused: HTTP 401" in html
    assert "Enter the credentials again." in html and 'data-kind="credentials"' in html
    assert "k-TYPED-77" not in html + client.get("/api/trace").text
