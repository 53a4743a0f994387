"""The published examples' commands run unchanged (Twilio option pipes and message send with a
MockTransport serving Twilio's responses; the ActiveTrail example's lifecycle and pipeline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from manifest_runtime.activecampaign import MemoryAccount
from manifest_runtime.compile import load_and_compile
from manifest_runtime.http.simple import SimpleHttpService
from manifest_runtime.model import CompiledManifest
from manifest_runtime.runtime import Env, EvalContext, MemoryStore, run_at

ROOT = Path(__file__).resolve().parents[2]
TWILIO = ROOT / "examples" / "twilio-sms" / "manifest.json"
ACTIVETRAIL = ROOT / "examples" / "activetrail-contacts" / "manifest.yaml"

TWILIO_RESPONSES: dict[str, Any] = {
    "/2010-04-01/Accounts.json": {"accounts": [
        {"sid": "AC111", "friendly_name": "Main project", "status": "active"},
        {"sid": "AC222", "friendly_name": "Side project", "status": "active"}]},
    "/2010-04-01/Accounts/AC111/IncomingPhoneNumbers.json": {"incoming_phone_numbers": [
        {"phone_number": "+15550001", "friendly_name": "(555) 0001",
         "capabilities": {"sms": True, "voice": True}},
        {"phone_number": "+15550002", "friendly_name": "Voice only",
         "capabilities": {"sms": False, "voice": True}}]},
    "/v1/Services": {"services": [{"sid": "MG999", "friendly_name": "Notifications"}]},
    "/2010-04-01/Accounts/AC111/Messages.json": {"sid": "SM1", "status": "queued"},
}


class Recorder:
    def __init__(self, responses: dict[str, Any]) -> None:
        self.responses = responses
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        body = self.responses.get(request.url.path)
        if body is None:
            return httpx.Response(404, json={"message": "not found"})
        return httpx.Response(201 if request.method == "POST" else 200, json=body)


def context(compiled: CompiledManifest, recorder: Recorder, **roots: Any) -> EvalContext:
    http = SimpleHttpService(httpx.Client(transport=httpx.MockTransport(recorder)))
    env = Env(store=MemoryStore(), http=http, ac=MemoryAccount(),
              base_url=compiled.node_at(("api", "base_url")))
    return EvalContext.create(env=env, **roots)


@pytest.fixture(scope="module")
def twilio() -> CompiledManifest:
    compiled = load_and_compile(str(TWILIO))
    assert compiled.valid
    return compiled


CUSTOM_DATA = {
    "sub_account": {"value": "AC111", "display": "Main project"},
    "phone_number": {"value": "+15550001", "display": "(555) 0001"},
    "message": {"value": "Hello from Twilio", "display": ""},
}


def test_twilio_project_options(twilio: CompiledManifest) -> None:
    rec = Recorder(TWILIO_RESPONSES)
    out = run_at(twilio, "/workflows/0/setup/select/form_fields/0/options", None,
                 context(twilio, rec))
    assert out == [{"display": "Main project", "value": "AC111"},
                   {"display": "Side project", "value": "AC222"}]
    assert [str(r.url) for r in rec.seen] == \
        ["https://api.twilio.com/2010-04-01/Accounts.json?Status=active"]


def test_twilio_phone_options_merge_services_and_numbers(twilio: CompiledManifest) -> None:
    rec = Recorder(TWILIO_RESPONSES)
    out = run_at(twilio, "/workflows/0/setup/select/form_fields/1/options", None,
                 context(twilio, rec, custom_data=CUSTOM_DATA))
    assert out == [{"display": "Notifications", "value": "MG999"},
                   {"display": "(555) 0001", "value": "+15550001"}]
    assert [str(r.url) for r in rec.seen] == [
        "https://api.twilio.com/2010-04-01/Accounts/AC111/IncomingPhoneNumbers.json"
        "?PageSize=350",
        "https://messaging.twilio.com/v1/Services?PageSize=350",
    ]


@pytest.mark.parametrize(("sender", "key"), [("+15550001", "From"),
                                             ("MG999", "MessagingServiceSid")])
def test_twilio_send_picks_the_case_and_posts_a_form(twilio: CompiledManifest, sender: str,
                                                     key: str) -> None:
    rec = Recorder(TWILIO_RESPONSES)
    data = {**CUSTOM_DATA, "phone_number": {"value": sender, "display": sender}}
    contact = {"email": "ann@example.com", "firstName": "Ann", "phone": "+15559999"}
    out = run_at(twilio, "/workflows/0/data_pipeline/target", contact,
                 context(twilio, rec, custom_data=data))
    assert out["status"] == 201 and out["body"]["sid"] == "SM1"
    (request,) = rec.seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.twilio.com/2010-04-01/Accounts/AC111/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.content.decode())
    assert form == {"To": ["+15559999"], key: [sender], "Body": ["Hello from Twilio"]}


def test_twilio_source_is_the_contact(twilio: CompiledManifest) -> None:
    contact = {"email": "ann@example.com", "phone": "+15559999"}
    env = Env(ac=MemoryAccount(contact=contact), resource_role="source")
    out = run_at(twilio, "/workflows/0/data_pipeline/source", None, EvalContext.create(env=env))
    assert out == contact


def test_activetrail_webhook_create_saves_the_id_and_delete_uses_it() -> None:
    compiled = load_and_compile(str(ACTIVETRAIL))
    rec = Recorder({"/api/webhooks": {"id": 314}, "/api/webhooks/314": {}})
    ctx = context(compiled, rec, custom_data={"group": {"value": "5", "display": "VIP"}},
                  webhook={"url": "https://receiver.test/hook"})
    assert run_at(compiled, "/data_intake/0/create", None, ctx) == {"webhook_id": 314}
    assert ctx.store.get_all("workflow") == {"webhook_id": 314}
    deleted = run_at(compiled, "/data_intake/0/delete", None, ctx)
    assert deleted["status"] == 200
    create, delete = rec.seen
    assert create.method == "POST" and str(create.url) == \
        "https://webapi.mymarketing.co.il/api/webhooks"
    assert create.read() == b'{"url":"https://receiver.test/hook","event":"member_added",' \
        b'"group_id":"5"}'
    assert delete.method == "DELETE" and delete.url.path == "/api/webhooks/314"


def test_activetrail_pipeline_source_then_target() -> None:
    compiled = load_and_compile(str(ACTIVETRAIL))
    account = MemoryAccount()
    env = Env(ac=account)
    ctx = EvalContext.create(env=env, custom_data={"group": {"value": "5", "display": "VIP"},
                                                   "tag": {"value": "new", "display": ""}})
    payload = {"member": {"email": "bo@example.com", "first_name": "Bo", "last_name": "K",
                          "sms": "+1", "extra": 1}}
    record = run_at(compiled, "/workflows/0/data_pipeline/source", payload, ctx)
    assert record["_tags"] == ["activetrail", "new"]
    mapped = {"email": record["email"], "firstName": record["first_name"],
              "_tags": record["_tags"]}
    contact = run_at(compiled, "/workflows/0/data_pipeline/target", mapped, ctx)
    assert contact["tags"] == ["activetrail", "new"]
    assert account.contacts["bo@example.com"]["firstName"] == "Bo"
