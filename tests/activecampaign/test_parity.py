"""One behaviour, two accounts (issue 12): the same pipelines (tests/activecampaign/
parity.yaml: an inbound contact with tags and a custom field; ActiveCampaign.sync with contact,
account and deal; an outbound ActiveCampaignContact source) run through the CLI into the
sandbox and into a fake real account (fake_ac.py, written from the v3 docs), and end with the
same contacts, tags, field values, accounts and deals, the same dead letters and the same
warnings. What the API refuses, the sandbox refuses with the same answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_ac import TOKEN, FakeAccount, FakeActiveCampaign

from manifest_runtime.activecampaign import MemoryAccount
from manifest_runtime.cli import main
from manifest_runtime.state import StateFile

PARITY = str(Path(__file__).with_name("parity.yaml"))
ANSWERS = {
    "contacts": {"mapping": {"email": "email", "first": "firstName", "last": "lastName",
                             "company": "1"}},
    "sync": {"mapping": {"email": "email", "first": "firstName", "company": "name",
                         "site": "accountUrl", "deal": "title", "cents": "value",
                         "currency": "currency", "pipeline": "group"}},
    "outbound": {},
}
RECORDS = {
    "contacts": [
        {"member": {"email": "ada@example.com", "first": "Ada", "last": "Byron",
                    "company": "Engines", "tags": ["vip"]}},
        {"member": {"email": "Bo@Example.com", "first": "Bo", "tags": ["VIP", "new"]}},
        {"member": {"email": "not-an-email", "first": "Nope"}},  # refused by both
        {"member": {"email": "ada@example.com", "first": "Ada", "last": "Lovelace"}},  # update
    ],
    "sync": [
        {"email": "cy@example.com", "first": "Cy", "company": "Acme", "site": "acme.com",
         "deal": "Big", "cents": 5000},
        {"email": "di@example.com", "first": "Di", "company": "Acme", "deal": "Small",
         "cents": 10},
        {"email": "ed@example.com", "company": "Solo"},  # its deal has no title: refused
    ],
    "outbound": [
        {"email": "ada@example.com", "firstName": "Ada"},
        {"email": "fay@example.com", "firstName": "Fay"},
    ],
}


def run_all(tmp: Path, fake: FakeActiveCampaign, real: bool,
            capsys: pytest.CaptureFixture[str]) -> tuple[str, list[dict[str, Any]]]:
    """Set up and run the three workflows into one account (the sandbox, or the fake with
    `real`); (stderr, dead letters). The connection's verify_url is answered by the fake."""
    ac = ["--remap", f"https://parity.example.com={fake.url}"]
    if real:
        ac += ["--ac-url", fake.url, "--ac-token", TOKEN]
    tmp.mkdir()
    state, dead = str(tmp / "state.db"), tmp / "dead.jsonl"
    errs = []
    for workflow, answers in ANSWERS.items():
        answers_file = tmp / f"{workflow}.json"
        answers_file.write_text(json.dumps({"workflow": workflow, **answers,
                                            "credentials": {"token": "conn-token"}}))
        assert main(["setup", PARITY, "--workflow", workflow, "--answers", str(answers_file),
                     "--state", state, *ac]) == 0, capsys.readouterr().err
        records = tmp / f"{workflow}.jsonl"
        records.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[workflow]))
        source = "--contacts" if workflow == "outbound" else "--input"
        main(["run", PARITY, "--workflow", workflow, source, str(records), "--state", state,
              "--dead-letter", str(dead), *ac])
        errs.append(capsys.readouterr().err)
    letters = [json.loads(line) for line in dead.read_text().splitlines()]
    return "".join(errs), [{k: d[k] for k in ("workflow", "record", "stage", "code",
                                                "error", "hint")} for d in letters]


def sandbox_snapshot(state: Path) -> dict[str, Any]:
    with StateFile(str(state)) as s:
        account = s.sandbox()
        contacts = account.contacts
        accounts = account.accounts
        emails = {c["id"]: c["email"].lower() for c in contacts.values()}
        names = {a["id"]: a["name"] for a in accounts.values()}
        return {
            "contacts": {k: {**{f: c[f] for f in ("email", "firstName", "lastName", "phone")
                                if f in c},
                             "fieldValues": c["fieldValues"], "tags": sorted(c["tags"])}
                         for k, c in contacts.items()},
            "tags": sorted(account.tags),
            "accounts": {n: {k: v for k, v in a.items() if k != "id"}
                         for n, a in accounts.items()},
            "deals": sorted((d["title"], int(d["value"]), d["currency"], d["group"],
                             emails.get(d.get("contact")), names.get(d.get("account")))
                            for d in account.deals.values()),
        }


def fake_snapshot(fake: FakeAccount) -> dict[str, Any]:
    emails = {c["id"]: k for k, c in fake.contacts.items()}
    names = {a["id"]: a["name"] for a in fake.accounts.values()}
    return {
        "contacts": {k: {**{f: c[f] for f in ("email", "firstName", "lastName", "phone")
                            if f in c},
                         "fieldValues": c["fieldValues"],
                         "tags": sorted(fake.contact_tags_of(k))}
                     for k, c in fake.contacts.items()},
        "tags": sorted(t["tag"] for t in fake.tags),
        "accounts": {a["name"]: {k: v for k, v in a.items() if k != "id"}
                     for a in fake.accounts.values()},
        "deals": sorted((d["title"], int(d["value"]), d["currency"], d["group"],
                         emails.get(d.get("contact")), names.get(d.get("account")))
                        for d in fake.deals.values()),
    }


def test_the_same_pipelines_end_the_same_in_both_accounts(
        fake_ac: FakeActiveCampaign, fast: None, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    sandbox_err, sandbox_dead = run_all(tmp_path / "sandbox", fake_ac, False, capsys)
    assert fake_ac.account.seen == []  # the sandbox run never reached the account
    real_err, real_dead = run_all(tmp_path / "real", fake_ac, True, capsys)
    sandbox = sandbox_snapshot(tmp_path / "sandbox" / "state.db")
    real = fake_snapshot(fake_ac.account)
    assert sandbox == real
    # and it is what the pipelines meant (not two equally wrong accounts)
    assert sandbox["contacts"]["ada@example.com"] == {
        "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace",
        "fieldValues": {"1": "seen Ada"}, "tags": ["outbound", "parity", "vip"]}
    assert sandbox["contacts"]["bo@example.com"]["tags"] == ["new", "parity", "vip"]
    assert sandbox["contacts"]["cy@example.com"]["tags"] == ["synced"]  # top-level _tags
    assert sandbox["accounts"] == {"Acme": {"name": "Acme", "accountUrl": "acme.com"},
                                   "Solo": {"name": "Solo"}}
    assert sandbox["deals"] == [("Big", 5000, "usd", "1", "cy@example.com", "Acme"),
                                ("Small", 10, "usd", "1", "di@example.com", "Acme")]
    assert sandbox["tags"] == ["new", "outbound", "parity", "synced", "vip"]
    # the same refusals, with the API's message
    assert sandbox_dead == real_dead == [{
        "workflow": "contacts", "record": 3, "stage": "target", "code": "contact-email",
        "error": "ActiveCampaign refused the contact (HTTP 422): Contact Email Address is "
                 f"not valid. ({PARITY}:51:15)",
        "hint": "map a source field to the ActiveCampaign Email field"}]
    # the same warnings: keys no record takes are never dropped silently
    warnings = sorted(line for line in sandbox_err.splitlines() if line.startswith("warning"))
    assert warnings == sorted(line for line in real_err.splitlines()
                              if line.startswith("warning"))
    assert "warning: ignored key 'note' on record 1" in warnings
    assert "warning: ignored key 'deal.color' on record 2" in warnings
    refused = "warning: ignored key 'deal' (not written: ActiveCampaign refused the deal " \
        "(HTTP 422): Deal title is required.; Deal value must be a whole number of cents, 0 " \
        "or more.) on record 3"  # a sync part not written: the record counts as delivered
    assert refused in warnings
    assert TOKEN not in real_err


@pytest.mark.parametrize("contact", [{"firstName": "Ann"}, {"email": "nope"}])
def test_the_sandbox_refuses_a_contact_as_the_api_does(fake_ac: FakeActiveCampaign,
                                                       contact: dict[str, Any]) -> None:
    real = httpx.post(f"{fake_ac.url}/api/3/contact/sync", json={"contact": contact},
                      headers={"Api-Token": TOKEN})
    sandbox = MemoryAccount().api("POST", "api/3/contact/sync", None, {"contact": contact})
    assert (sandbox.status, sandbox.body) == (real.status_code, real.json())
    assert real.status_code == 422 and real.json()["errors"][0]["source"] == {
        "pointer": "/data/attributes/email"}


def test_raw_v3_calls_answer_alike(fake_ac: FakeActiveCampaign) -> None:
    """`!http {target: activecampaign}` calls the sandbox answers: the same statuses, and the
    same bodies where the API's are fixed (errors, tag and field listings)."""
    from manifest_runtime.activecampaign.v3 import V3Account, account_limiter
    from manifest_runtime.compile import load_and_compile
    from manifest_runtime.http.client import HttpClient

    calls: list[tuple[str, str, dict[str, Any] | None, Any]] = [
        ("POST", "api/3/contact/sync", None, {"contact": {
            "email": "a@b.co", "fieldValues": [{"field": "1", "value": "X"}]}}),
        ("POST", "api/3/tags", None, {"tag": {"tag": "vip", "tagType": "contact"}}),
        ("POST", "api/3/tags", None, {"tag": {"tag": "VIP", "tagType": "contact"}}),
        ("POST", "api/3/tags", None, {"tag": {"tag": "", "tagType": "contact"}}),
        ("GET", "api/3/tags", {"search": "V"}, None),
        ("POST", "api/3/contactTags", None, {"contactTag": {"contact": "1", "tag": "1"}}),
        ("POST", "api/3/contactTags", None, {"contactTag": {"contact": "99", "tag": "1"}}),
        ("GET", "/api/3/fields", {"limit": 1, "offset": 1}, None),
        ("POST", "api/3/contact/sync", None, {"contact": {"firstName": "No email"}}),
        ("GET", "api/3/nothing", None, None),
    ]
    sandbox = MemoryAccount()
    with HttpClient(load_and_compile(PARITY), None) as http:
        real = V3Account(fake_ac.url, TOKEN, http, limiter=account_limiter(1000))
        answers = [(sandbox.api(*call), real.api(*call)) for call in calls]
    assert [a.status for a, _ in answers] == [b.status for _, b in answers] == [
        201, 201, 422, 422, 200, 201, 404, 200, 422, 404]
    for (a, b), call in zip(answers, calls, strict=True):
        if a.status >= 400 and "errors" in b.body:
            assert a.body == b.body, call
    assert answers[4][0].body == answers[4][1].body  # the tag listing
    assert answers[7][0].body == answers[7][1].body  # a page of fields
    assert answers[0][0].body["contact"]["email"] == answers[0][1].body["contact"]["email"]
    assert sandbox.contacts["a@b.co"]["tags"] == ["vip"]
    assert fake_ac.account.contact_tags_of("a@b.co") == ["vip"]
