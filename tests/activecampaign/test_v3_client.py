"""The v3 client on its own, against the fake account over loopback HTTP, through the run's
HTTP client: ActiveCampaign's 5 requests/s, retries, paged field lists, tag cache, accounts,
deals, custom objects, raw `!http target: activecampaign`, and the token kept out of every
message, trace line and cassette."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_ac import TOKEN, FakeActiveCampaign

from manifest_runtime.activecampaign.v3 import V3Account, account_limiter
from manifest_runtime.compile import load_and_compile
from manifest_runtime.errors import EvaluationError
from manifest_runtime.http.client import HttpClient
from manifest_runtime.http.trace import TraceEvent

PARITY = str(Path(__file__).with_name("parity.yaml"))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def traced() -> list[TraceEvent]:
    return []


@pytest.fixture
def http(tmp_path: Path, traced: list[TraceEvent]) -> Iterator[HttpClient]:
    client = HttpClient(load_and_compile(PARITY), None, sleep=lambda s: None,
                        trace=traced.append, record=str(tmp_path / "cassette.yaml"))
    client.redactor.add(TOKEN)  # as cli/ac_options.py does
    yield client
    client.close()


def account(fake: FakeActiveCampaign, http: HttpClient, **kw: Any) -> V3Account:
    return V3Account(fake.url, TOKEN, http, limiter=account_limiter(1000), **kw)


def test_five_requests_per_second_per_account(fake_ac: FakeActiveCampaign,
                                              http: HttpClient) -> None:
    """A burst of 5, then one request every 0.2 s, reads and writes alike."""
    clock = Clock()
    ac = V3Account(fake_ac.url, TOKEN, http,
                   limiter=account_limiter(clock=clock, sleep=clock.sleep))
    for i in range(4):
        ac.upsert_contact({"email": f"p{i}@example.com"})  # 1 fields listing + 4 syncs
    assert clock.sleeps == []
    ac.upsert_contact({"email": "p5@example.com"})
    ac.upsert_contact({"email": "p6@example.com"})
    assert clock.sleeps == [pytest.approx(0.2), pytest.approx(0.2)]


def test_429_and_503_are_retried_as_for_http(fake_ac: FakeActiveCampaign, http: HttpClient,
                                             traced: list[TraceEvent]) -> None:
    ac = account(fake_ac, http)
    fake_ac.account.fail_next[:] = [429, 503]
    assert ac.contact_fields()[-1]["id"] == "2"  # GET /api/3/fields after two refusals
    assert [(e.status, e.attempt) for e in traced] == [(429, 1), (503, 2), (200, 3)]


def test_fields_are_read_page_by_page(fake_ac: FakeActiveCampaign, http: HttpClient) -> None:
    fake_ac.account.page_cap = 1
    fake_ac.account.fields.append({"id": "7", "title": "Plan", "perstag": "PLAN",
                                   "type": "text"})
    ac = account(fake_ac, http)
    fields = ac.contact_fields()
    assert [f["id"] for f in fields] == ["email", "firstName", "lastName", "phone", "1", "2",
                                         "7"]
    assert fields[-1] == {"id": "7", "title": "Plan", "required": False, "value": "7",
                          "display": "Plan", "perstag": "PLAN"}
    offsets = [s.query["offset"] for s in fake_ac.account.calls("GET", "/api/3/fields")]
    assert offsets == ["0", "1", "2"]
    ac.all_fields()  # cached: no more field listings
    assert len(fake_ac.account.calls("GET", "/api/3/fields")) == 3
    owners = next(f for f in ac.all_fields() if f["group"] == "deal" and f["id"] == "owner")
    assert owners["source_fields"] == [{"id": "1", "title": "Admin User"}]


def test_contact_with_custom_fields_and_tags(fake_ac: FakeActiveCampaign,
                                             http: HttpClient) -> None:
    fake_ac.account.tags.append({"id": "9", "tag": "VIP", "tagType": "contact"})
    ac = account(fake_ac, http)
    out = ac.upsert_contact({"email": "ann@example.com", "firstName": "Ann", "1": "Acme",
                             "_tags": ["vip", "new"]})
    assert out == {"id": 1, "email": "ann@example.com", "firstName": "Ann",
                   "fieldValues": {"1": "Acme"}, "tags": ["vip", "new"]}
    sync = fake_ac.account.calls("POST", "/api/3/contact/sync")[0]
    assert sync.body == {"contact": {"email": "ann@example.com", "firstName": "Ann",
                                     "fieldValues": [{"field": "1", "value": "Acme"}]}}
    # "vip" found as the existing "VIP" (tag names compare without case), "new" created
    assert fake_ac.account.contact_tags_of("ann@example.com") == ["VIP", "new"]
    assert [t["tag"] for t in fake_ac.account.tags] == ["VIP", "new"]
    with pytest.raises(EvaluationError) as info:
        ac.upsert_contact({"email": "ann@example.com", "nickname": "A"})
    assert info.value.diagnostic.code == "contact-field"  # before anything is sent
    assert len(fake_ac.account.calls("POST", "/api/3/contact/sync")) == 1


def test_sync_with_account_deal_and_custom_object(fake_ac: FakeActiveCampaign,
                                                  http: HttpClient) -> None:
    ac = account(fake_ac, http)
    out = ac.sync({"contact": {"email": "cy@example.com"}, "account": {"name": "Acme"},
                   "deal": {"title": "Big", "value": 100, "currency": "usd", "stage": "1"},
                   "customObjects": {"schemaId": "s-1", "externalId": "o-1", "plan": "pro"},
                   "_tags": "synced"})
    assert out == {"contact-id": 1, "account_id": 1, "account_contact_id": 1, "deal_id": 1,
                   "external_ids": ["o-1"]}
    fake = fake_ac.account
    assert fake.deals["1"]["contact"] == "1" and fake.deals["1"]["account"] == "1"
    assert fake.account_contacts == [{"contact": "1", "account": "1", "id": "1"}]
    assert fake.records[("s-1", "o-1")]["fields"] == {"plan": "pro"}
    assert fake.contact_tags_of("cy@example.com") == ["synced"]
    # the same account again: found by name and updated, not created twice
    assert ac.account_sync({"account": {"name": "Acme", "accountUrl": "acme.com"}}) == {
        "account_id": 1}
    assert list(fake.accounts) == ["1"] and fake.accounts["1"]["accountUrl"] == "acme.com"
    assert ac.deal_sync({"deal": {"id": "1", "value": 7}}) == {"deal_id": 1}
    with pytest.raises(EvaluationError) as info:
        ac.deal_sync({"deal": {"id": 99, "value": 7}})
    assert info.value.diagnostic.code == "deal-not-found"
    with pytest.raises(EvaluationError) as info:
        ac.deal_sync({"deal": {"title": "No contact", "value": 1, "currency": "usd",
                               "stage": "1"}})
    assert info.value.diagnostic.message == ("ActiveCampaign refused the deal (HTTP 422): A "
                                             "deal needs a contact or an account.")


def test_raw_api_calls_and_a_refused_token(fake_ac: FakeActiveCampaign, http: HttpClient,
                                           tmp_path: Path) -> None:
    ac = account(fake_ac, http)
    ac.upsert_contact({"email": "ann@example.com", "_tags": ["vip"]})
    tags = ac.api("GET", "api/3/tags", {"search": "v"}, None)
    assert tags.status == 200 and tags.body["tags"][0]["tag"] == "vip"
    assert ac.api("GET", "/api/3/nothing", None, None).status == 404
    wrong = V3Account(fake_ac.url, "wrong-SECRET-token", http, limiter=account_limiter(1000))
    http.redactor.add("wrong-SECRET-token")
    with pytest.raises(EvaluationError) as info:
        wrong.upsert_contact({"email": "ann@example.com"})
    d = info.value.diagnostic
    assert d.code == "ac-rejected" and "HTTP 403" in d.message and "--ac-token" in (d.hint or "")
    cassette = (tmp_path / "cassette.yaml").read_text()
    assert "/api/3/contact/sync" in cassette and "SECRET" not in cassette


def test_a_refused_account_link_is_a_warning_not_a_failure(fake_ac: FakeActiveCampaign,
                                                           http: HttpClient) -> None:
    from manifest_runtime.activecampaign.ignored import collecting

    ac = account(fake_ac, http)
    ac.sync({"contact": {"email": "cy@example.com"}, "account": {"name": "Acme"}})
    with collecting() as ignored:
        out = ac.sync({"contact": {"email": "cy@example.com"}, "account": {"name": "Beta"}})
    assert out == {"contact-id": 1, "account_id": 2}
    assert ignored == ["account_contact (not written: ActiveCampaign refused the contact's "
                       "link to its account (HTTP 422): Contact is already associated with "
                       "an account.)"]
