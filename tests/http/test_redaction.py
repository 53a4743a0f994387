from __future__ import annotations

import base64

import pytest
from http_helpers import PASSWORD, TOKEN, USERNAME, Harness, json_response, manifest

from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.redact import Redactor, is_secret_name
from manifest_runtime.http.types import HttpRequest, HttpResponse


def test_redactor_masks_values_everywhere() -> None:
    r = Redactor([TOKEN, None, "", "abc"])
    r.add_basic(USERNAME, PASSWORD)
    pair = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert r.text(f"x {TOKEN} y {pair}") == "x *** y ***"
    assert r.text("abc stays: shorter than 4 characters") == "abc stays: shorter than 4 characters"
    assert r.value({"a": [TOKEN, 1, {"access_token": "opaque"}], "b": None}) == \
        {"a": ["***", 1, {"access_token": "***"}], "b": None}
    assert r.headers({"Authorization": "x", "Accept": f"a {PASSWORD}"}) == \
        {"Authorization": "***", "Accept": "a ***"}
    assert r.url(f"https://u:p@h.test/p/{USERNAME}?key=1&q=2&token=3") == \
        "https://***@h.test/p/***?key=***&q=2&token=***"


@pytest.mark.parametrize("name", ["token", "API-TOKEN", "client_secret", "password", "api_key",
                                  "apikey", "key", "X-Signature", "Authorization", "Cookie",
                                  "refresh_token", "stripe_key"])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["email", "page", "limit", "keyword", "monkey", "cursor"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_leak_guard_catches_a_leak(harness: Harness) -> None:
    harness.texts.append(f"oops {TOKEN}")
    with pytest.raises(AssertionError, match="leaked"):
        harness.assert_no_secrets()
    harness.texts.clear()


def test_error_bodies_and_messages_are_redacted(harness: Harness) -> None:
    auth = {"type": "basic", "verify_url": f"https://api.example.com/me?password={PASSWORD}"}
    client = harness.client(manifest(auth), lambda r: json_response(
        403, {"detail": f"user {USERNAME} has password {PASSWORD}"}),
        Credentials(username=USERNAME, password=PASSWORD))
    ok, detail = client.verify()
    assert not ok and "***" in detail
    harness.texts.append(detail)
    assert client.redactor.secrets >= {USERNAME, PASSWORD}


def test_activecampaign_target_uses_handler_or_fails_clearly(harness: Harness) -> None:
    seen: list[HttpRequest] = []

    def ac(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse(200, {}, {"tags": []})

    auth = {"type": "token", "header_key": "K", "verify_url": "https://api.example.com/me"}
    request = HttpRequest("GET", "api/3/tags", target="activecampaign")
    with_ac = harness.client(manifest(auth), None, Credentials(token=TOKEN), ac=ac)
    assert with_ac.send(request).body == {"tags": []} and seen == [request]
    without = harness.client(manifest(auth), None, Credentials(token=TOKEN))
    err = harness.error(lambda: without.send(request))
    assert err.diagnostic.code == "http-activecampaign"
