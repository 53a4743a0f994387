"""Edit-reload (a changed manifest is re-validated; its diagnostics, with their source
snippets, replace the form) and the run panel (payloads through the batch engine; outcomes,
dead letters, sandbox contacts)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .conftest import EXAMPLE, WORKFLOW, Open

CASSETTE = str(EXAMPLE / "cassette.yaml")


def test_a_changed_manifest_is_revalidated_and_its_errors_shown(open_studio: Open,
                                                                tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    shutil.copy(EXAMPLE / "manifest.yaml", manifest)
    _, client = open_studio(manifest, "--replay", CASSETTE)
    first = client.get("/api/manifest").json()
    assert first["valid"] and 'class="setup" data-workflow="activetrail-member-to-contact"' \
        in first["html"] and '<pre class="mermaid" id="graph">' in first["html"]
    version = first["version"]
    assert client.get(f"/api/manifest?known={version}").json() == {"version": version,
                                                                   "valid": True}
    client.post("/api/setup/start", json={"workflow": WORKFLOW})

    text = manifest.read_text()
    manifest.write_text(text.replace("type: dropdown", "type: dropdwn"))
    broken = client.get(f"/api/manifest?known={version}").json()
    assert broken["version"] == version + 1 and broken["valid"] is False
    html = broken["html"]
    assert 'id="diagnostics"' in html and "is invalid: 1 error" in html
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "type: dropdown" in t)
    assert f"manifest.yaml:{line}:" in html  # located in the file ...
    assert f"{line} |             type: dropdwn" in html and "^^^^^^^" in html  # ... snippet
    # the setup of the old manifest is gone; a new one shows the errors instead of a form
    assert client.post("/api/setup/answer", json={"kind": "credentials", "value": {}}
                       ).json()["kind"] == "gone"
    assert client.post("/api/setup/start", json={"workflow": WORKFLOW}).json()["kind"] == \
        "invalid"

    manifest.write_text(text.replace("label: Group\n", "label: Group of members\n"))
    fixed = client.get(f"/api/manifest?known={version + 1}").json()
    assert fixed["valid"] and fixed["version"] == version + 2
    client.post("/api/setup/start", json={"workflow": WORKFLOW})
    form = client.post("/api/setup/answer", json={"kind": "credentials", "value": {}}).json()
    assert "Group of members *" in form["html"]  # the edited label, at once


def test_run_panel_delivers_payloads_and_shows_dead_letters(open_studio: Open) -> None:
    _, client = open_studio(EXAMPLE / "manifest.yaml", "--replay", CASSETTE)
    payloads = (EXAMPLE / "payloads.jsonl").read_text()
    early = client.post("/api/run", json={"workflow": WORKFLOW, "text": payloads}).json()
    assert 'id="run-refused"' in early["html"] and "no setup was saved" in early["html"]

    client.post("/api/setup/start", json={"workflow": WORKFLOW})
    group = client.post("/api/setup/answer", json={"kind": "credentials", "value": {}}).json()
    index = group["html"].split(">Group 7<")[0].rsplit('value="', 1)[1].split('"')[0]
    client.post("/api/setup/answer", json={"kind": "field", "value": {"pick": [index]}})
    client.post("/api/setup/answer", json={"kind": "field", "value": {"value": "vip"}})
    done = client.post("/api/setup/answer", json={"kind": "mapping", "value": {
        "email": "email", "first_name": "firstName"}}).json()
    assert done["saved"]

    bad = '{"member": {"first_name": "No email"}}\nnot json\n'
    ran = client.post("/api/run", json={"workflow": WORKFLOW, "text": payloads + bad}).json()
    assert "read 5, delivered 3, failed 2" in ran["html"]
    assert ran["html"].count('<tr class="delivered">') == 3
    assert ran["html"].count('<tr class="failed">') == 2
    sandbox = client.get(f"/api/sandbox?workflow={WORKFLOW}").json()["html"]
    assert 'id="contacts"' in sandbox
    for email in ("ada@example.com", "grace@example.com", "alan@example.com"):
        assert f"<td>{email}</td>" in sandbox
    assert "<td>Ada</td>" in sandbox and "<td>activetrail, vip</td>" in sandbox
    assert 'id="dead-letters"' in sandbox and sandbox.count("<tr>") >= 2 + 3 + 2
    assert "record-not-json" in sandbox or "not JSON" in sandbox
    trace = client.get("/api/trace").json()["html"]
    assert "5 records: every step and HTTP attempt" in trace
    assert "trace: /workflows/0/data_pipeline/target !resource" in trace

    again = client.post("/api/run", json={"workflow": WORKFLOW, "text": payloads}).json()
    assert "3 of them skipped" in again["html"]  # resume: as `run` does
    forced = client.post("/api/run", json={"workflow": WORKFLOW, "text": payloads,
                                           "restart": True}).json()
    assert "read 3, delivered 3, failed 0" in forced["html"]


def test_outbound_contacts_run_with_the_personalized_message(open_studio: Open,
                                                            tmp_path: Path) -> None:
    """An outbound workflow set up on the page (a static dropdown, texts, a personalized
    textarea) runs the example's contacts through its replayed !http target."""
    import re

    example = EXAMPLE.parent / "activetrail-actions"
    workflow = "activetrail-send-message"
    _, client = open_studio(example / "manifest.yaml", "--replay",
                            str(example / "cassette.yaml"))
    overview = client.get("/api/manifest").json()["html"]
    assert overview.count('class="setup"') == 3  # every workflow can be set up
    client.post("/api/setup/start", json={"workflow": workflow})
    channel = client.post("/api/setup/answer", json={"kind": "credentials", "value": {}}
                          ).json()["html"]
    sms = dict((d, i) for i, d in re.findall(r'<option value="(\d+)">([^<]*)</option>',
                                             channel))["SMS"]
    for value in ({"pick": [sms]}, {"value": "Spring pickup reminder"},
                  {"value": "GardenSupply"}):
        html = client.post("/api/setup/answer", json={"kind": "field", "value": value}
                           ).json()["html"]
    assert 'data-type="textarea"' in html and "%FIRSTNAME%" in html
    message = "Hi %FIRSTNAME%, your spring seed order is ready for pickup. Reply STOP to " \
        "opt out."
    done = client.post("/api/setup/answer", json={"kind": "field", "value": {"value": message}}
                       ).json()
    assert done["saved"], done["html"]
    contacts = (example / "contacts.jsonl").read_text()
    ran = client.post("/api/run", json={"workflow": workflow, "text": contacts}).json()
    assert f"{workflow}: read 3, delivered 3, failed 0" in ran["html"], ran["html"]
    trace = client.get("/api/trace").json()["html"]
    assert "POST https://webapi.mymarketing.co.il/api/sms/operational" in trace
    assert "Hi Ada, your spring seed order" in trace  # personalized per contact
