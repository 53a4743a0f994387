from __future__ import annotations

import base64
from pathlib import Path

import http_helpers
import httpx
import pytest
import yaml
from http_helpers import (
    BASIC_PAIR,
    MARKER,
    PASSWORD,
    SECRETS,
    TOKEN,
    USERNAME,
    Harness,
    json_response,
    manifest,
)

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
    assert r.url(f"https://u:p@h.test/p/{PASSWORD}?key=1&q=2&token=3") == \
        "https://***@h.test/p/***?key=***&q=2&token=***"
    # the username is not a secret value: kept in text, masked in the Basic pair and by name
    assert r.url(f"https://h.test/p/{USERNAME}?username={USERNAME}") == \
        f"https://h.test/p/{USERNAME}?username={USERNAME}"
    assert r.value({"login": USERNAME, "auth": USERNAME}) == {"login": USERNAME, "auth": USERNAME}
    assert r.fields({"login": USERNAME, "auth": USERNAME}) == {"login": USERNAME, "auth": "***"}


@pytest.mark.parametrize("name", ["token", "API-TOKEN", "client_secret", "password", "api_key",
                                  "apikey", "key", "X-Signature", "Authorization", "Cookie",
                                  "refresh_token", "stripe_key"])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["email", "page", "limit", "keyword", "monkey", "cursor"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_leak_guard_catches_a_leak(harness: Harness) -> None:
    for leak in (*SECRETS, BASIC_PAIR):
        harness.texts.append(f"oops {leak}")
        with pytest.raises(AssertionError, match="leaked"):
            harness.assert_no_secrets()
        harness.texts.clear()


def test_leak_guard_covers_every_secret() -> None:
    """Each secret constant carries the marker; the username (not a secret) does not."""
    constants = {name: value for name, value in vars(http_helpers).items()
                 if name.isupper() and isinstance(value, str)}
    marked = {value for value in constants.values() if MARKER in value}
    assert marked == set(SECRETS) | {MARKER}
    assert MARKER not in USERNAME and MARKER not in BASIC_PAIR


def test_a_username_inside_ordinary_text_is_left_alone(harness: Harness,
                                                       tmp_path: Path) -> None:
    """Username `user` must not turn `/v3/users/list` into `/v3/***s/list` (trace and
    cassette), while the Basic header and an echoed base64 pair stay masked."""
    cassette = tmp_path / "users.yaml"
    pair = base64.b64encode(f"user:{PASSWORD}".encode()).decode()

    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(200, {"members": [{"name": "username test", "role": "user"}],
                                   "echo": request.headers["Authorization"]})

    client = harness.client(manifest({"type": "basic", "verify_url": "x"}), handler,
                            Credentials(username="user", password=PASSWORD),
                            record=str(cassette))
    response = client.send(HttpRequest("GET", "https://api.example.com/v3/users/list"))
    assert response.body["echo"] == f"Basic {pair}"  # the caller gets the real response
    assert harness.events[-1].url == "https://api.example.com/v3/users/list"
    entry = yaml.safe_load(cassette.read_text())["interactions"][0]
    assert entry["request"]["url"] == "https://api.example.com/v3/users/list"
    assert entry["request"]["headers"]["Authorization"] == "***"
    assert entry["response"]["body"] == {
        "members": [{"name": "username test", "role": "user"}], "echo": "Basic ***"}
    assert pair not in cassette.read_text()


def test_error_bodies_and_messages_are_redacted(harness: Harness) -> None:
    auth = {"type": "basic", "verify_url": f"https://api.example.com/me?password={PASSWORD}"}
    client = harness.client(manifest(auth), lambda r: json_response(
        403, {"detail": f"user {USERNAME} has password {PASSWORD}"}),
        Credentials(username=USERNAME, password=PASSWORD))
    ok, detail = client.verify()
    assert not ok and f"user {USERNAME} has password ***" in detail
    harness.texts.append(detail)
    assert PASSWORD in client.redactor.secrets and USERNAME not in client.redactor.secrets


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
