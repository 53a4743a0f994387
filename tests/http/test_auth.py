from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from http_helpers import (
    ACCESS,
    CLIENT_SECRET,
    NEW_ACCESS,
    NEW_REFRESH,
    PASSWORD,
    REFRESH,
    SESSION,
    TOKEN,
    USERNAME,
    Harness,
    json_response,
    manifest,
)

from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.types import HttpRequest

TOKEN_AUTH = {"type": "token", "header_key": "API-TOKEN", "token_prefix": "Token",
              "verify_url": "https://api.example.com/me",
              "defined_fields": {"token": {"label": "t", "placeholder": "", "help_text": ""}}}
BASIC_AUTH = {"type": "basic", "verify_url": "https://${subdomain}.example.com/me",
              "defined_fields": {
                  "username": {"label": "u", "placeholder": "", "help_text": ""},
                  "password": {"label": "p", "placeholder": "", "help_text": ""},
                  "subdomain": {"label": "s", "placeholder": "", "help_text": ""}}}
SESSION_AUTH = {"type": "session", "verify_url": "https://api.example.com/login",
                "request_body": {"grant_type": "client_credentials"},
                "defined_fields": {
                    "username": {"label": "u", "placeholder": "", "help_text": ""},
                    "password": {"label": "p", "placeholder": "", "help_text": ""}}}


def oauth(include_client_id: bool) -> dict[str, Any]:
    return {"type": "oauth2", "configuration": {
        "authorization_base_url": "https://auth.example.com/authorize",
        "client_id": "app-id", "client_secret": CLIENT_SECRET, "scopes": [],
        "token_url": "https://auth.example.com/token",
        "refresh_url": "https://auth.example.com/refresh",
        "include_client_id": include_client_id}}


def get(url: str = "https://api.example.com/items", **kw: Any) -> HttpRequest:
    return HttpRequest(method="GET", url=url, **kw)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_token_header_with_prefix(harness: Harness) -> None:
    client = harness.client(manifest(TOKEN_AUTH), lambda r: json_response(200, {"ok": 1}),
                            Credentials(token=TOKEN))
    assert client.send(get()).body == {"ok": 1}
    assert harness.requests[0].headers["API-TOKEN"] == f"Token {TOKEN}"


def test_token_without_prefix_and_external_target_gets_no_auth(harness: Harness) -> None:
    auth = {**TOKEN_AUTH, "token_prefix": None}
    del auth["token_prefix"]
    client = harness.client(manifest(auth), lambda r: json_response(200, {}),
                            Credentials(token=TOKEN))
    client.send(get())
    client.send(get("https://other.example.org/x", target="external"))
    assert harness.requests[0].headers["API-TOKEN"] == TOKEN
    assert "API-TOKEN" not in harness.requests[1].headers


def test_missing_token_is_a_clear_error(harness: Harness) -> None:
    client = harness.client(manifest(TOKEN_AUTH), lambda r: json_response(200, {}))
    err = harness.error(lambda: client.send(get()))
    assert err.diagnostic.code == "auth-missing"
    assert "MANIFEST_RUNTIME_TOKEN" in (err.diagnostic.hint or "")


def test_basic_auth_and_subdomain_in_base_url(harness: Harness) -> None:
    api = {"base_url": "https://${subdomain}.example.com/api"}
    client = harness.client(manifest(BASIC_AUTH, api), lambda r: json_response(200, []),
                            Credentials(username=USERNAME, password=PASSWORD, subdomain="acme"))
    assert client.base_url == "https://acme.example.com/api"
    client.send(get(client.base_url + "/items"))
    assert harness.requests[0].headers["Authorization"] == basic(USERNAME, PASSWORD)


def test_verify_basic_uses_get_and_only_200_is_valid(harness: Harness) -> None:
    statuses = iter([200, 401])
    client = harness.client(manifest(BASIC_AUTH),
                            lambda r: json_response(next(statuses), {"who": "me"}))
    creds = Credentials(username=USERNAME, password=PASSWORD, subdomain="acme")
    assert client.verify(creds) == (True, "HTTP 200: {'who': 'me'}")
    ok, detail = client.verify(creds)
    assert not ok and detail.startswith("HTTP 401")
    assert [(r.method, str(r.url)) for r in harness.requests] == [
        ("GET", "https://acme.example.com/me")] * 2
    harness.texts.append(detail)


def test_verify_token(harness: Harness) -> None:
    client = harness.client(manifest(TOKEN_AUTH), lambda r: json_response(
        200 if r.headers.get("API-TOKEN") == f"Token {TOKEN}" else 403, {}))
    assert client.verify(Credentials(token=TOKEN))[0] is True
    assert client.verify(Credentials(token="wrong-SECRET-x"))[0] is False


def test_oauth2_refresh_on_401_saves_rotated_token(harness: Harness) -> None:
    saved: list[Credentials] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/refresh":
            form = parse_qs(request.content.decode())
            assert form == {"grant_type": ["refresh_token"], "refresh_token": [REFRESH],
                            "client_id": ["app-id"], "client_secret": [CLIENT_SECRET]}
            assert "Authorization" not in request.headers
            return json_response(200, {"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH,
                                       "expires_in": 3600})
        if request.headers["Authorization"] == f"Bearer {ACCESS}":
            return json_response(401, {"error": "expired"})
        return json_response(200, {"data": [1]})

    client = harness.client(manifest(oauth(True)), handler,
                            Credentials(access_token=ACCESS, refresh_token=REFRESH),
                            on_credentials_changed=saved.append)
    response = client.send(get())
    assert response.status == 200
    assert [r.url.path for r in harness.requests] == ["/items", "/refresh", "/items"]
    assert saved[-1].access_token == NEW_ACCESS and saved[-1].refresh_token == NEW_REFRESH
    assert saved[-1].expires_at == datetime.fromtimestamp(harness.clock() + 3600, UTC)
    assert [e.purpose for e in harness.events] == ["request", "auth-refresh", "request"]


def test_oauth2_refresh_on_expiry_with_basic_client_auth(harness: Harness) -> None:
    saved: list[Credentials] = []
    expired = datetime.fromtimestamp(harness.clock() - 10, UTC)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/refresh":
            assert request.headers["Authorization"] == basic("app-id", CLIENT_SECRET)
            assert "client_secret" not in request.content.decode()
            return json_response(200, {"access_token": NEW_ACCESS, "expires_in": 60})
        assert request.headers["Authorization"] == f"Bearer {NEW_ACCESS}"
        return json_response(200, {})

    client = harness.client(manifest(oauth(False)), handler,
                            Credentials(access_token=ACCESS, refresh_token=REFRESH,
                                        expires_at=expired),
                            on_credentials_changed=saved.append)
    client.send(get())
    client.send(get())
    assert [r.url.path for r in harness.requests] == ["/refresh", "/items", "/items"]
    assert saved[-1].refresh_token == REFRESH  # not rotated: the old one is kept
    harness.clock.advance(61)
    client.send(get())
    assert [r.url.path for r in harness.requests][-2:] == ["/refresh", "/items"]


@pytest.mark.parametrize(("status", "tries"), [(503, 3), (400, 1)])
def test_oauth2_refresh_makes_at_most_three_tries(harness: Harness, status: int, tries: int
                                                  ) -> None:
    """503 is tried 3 times in all; invalid_grant (400) cannot get better: 1 try."""
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/refresh":
            return json_response(status, {"error": "invalid_grant", "refresh_token": REFRESH})
        return json_response(401, {})

    client = harness.client(manifest(oauth(True)), handler,
                            Credentials(access_token=ACCESS, refresh_token=REFRESH))
    err = harness.error(lambda: client.send(get()))
    assert err.diagnostic.code == "auth-refresh"
    assert f"HTTP {status}" in err.diagnostic.message
    assert [r.url.path for r in harness.requests].count("/refresh") == tries


def test_oauth2_without_refresh_returns_the_401(harness: Harness) -> None:
    client = harness.client(manifest(oauth(True)), lambda r: json_response(401, {}),
                            Credentials(access_token=ACCESS))
    assert client.send(get()).status == 401


@pytest.mark.parametrize("checked_first", [False, True], ids=["sent", "checked-then-sent"])
def test_session_logs_in_reuses_and_reverifies_on_expiry(harness: Harness,
                                                         checked_first: bool) -> None:
    """One login serves the requests until the session expires. Checking the client's own
    credentials first (setup's connect step) is that login, not an extra one; checking other
    credentials through the client does not touch its session."""
    logins: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            logins.append(request)
            return json_response(200, {"access_token": f"{SESSION}-{len(logins)}",
                                       "expires_in": 120})
        return json_response(200, {"auth": "checked"})

    client = harness.client(manifest(SESSION_AUTH), handler,
                            Credentials(username=USERNAME, password=PASSWORD))
    if checked_first:
        assert client.verify()[0] is True
    client.send(get())
    client.send(get())
    assert len(logins) == 1
    assert logins[0].method == "POST"
    assert logins[0].headers["Authorization"] == basic(USERNAME, PASSWORD)
    assert logins[0].content == b'{"grant_type":"client_credentials"}'
    assert harness.requests[-1].headers["Authorization"] == f"Bearer {SESSION}-1"
    harness.clock.advance(121)
    client.send(get())
    assert len(logins) == 2
    assert harness.requests[-1].headers["Authorization"] == f"Bearer {SESSION}-2"
    assert client.verify(Credentials(username="other", password="other-pw"))[0] is True
    client.send(get())
    assert len(logins) == 3
    assert harness.requests[-1].headers["Authorization"] == f"Bearer {SESSION}-2"


def test_session_reverifies_on_401(harness: Harness) -> None:
    logins = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal logins
        if request.url.path == "/login":
            logins += 1
            return json_response(200, {"access_token": f"{SESSION}-{logins}"})
        if request.headers["Authorization"].endswith("-1"):
            return json_response(401, {})
        return json_response(200, {"n": logins})

    client = harness.client(manifest(SESSION_AUTH), handler,
                            Credentials(username=USERNAME, password=PASSWORD))
    assert client.send(get()).body == {"n": 2}


def test_session_login_failure_and_verify(harness: Harness) -> None:
    client = harness.client(manifest(SESSION_AUTH), lambda r: json_response(
        401 if r.headers["Authorization"] != basic(USERNAME, PASSWORD) else 200,
        {"access_token": SESSION, "expires_in": 10}))
    assert client.verify(Credentials(username=USERNAME, password=PASSWORD))[0] is True
    ok, detail = client.verify(Credentials(username=USERNAME, password="bad-SECRET-pw"))
    assert not ok and detail.startswith("HTTP 401")
    harness.texts.append(detail)
    err = harness.error(lambda: client.send(get()))
    assert err.diagnostic.code == "auth-missing"


@pytest.mark.parametrize(("auth", "pointer", "says"), [
    ({**TOKEN_AUTH, "type": "apikey"}, "/auth/main/type", "has type 'apikey'"),
    ({k: v for k, v in SESSION_AUTH.items() if k != "verify_url"}, "/auth/main",
     "has no verify_url"),
])
def test_unusable_auth_is_invalid_auth(harness: Harness, auth: dict[str, Any], pointer: str,
                                       says: str) -> None:
    # validate reports both first (invalid-value, missing-key); this is the run-time guard
    client = harness.client(manifest(auth), lambda r: json_response(200, {}),
                            Credentials(username=USERNAME, password=PASSWORD))
    err = harness.error(lambda: client.send(get()))
    assert (err.diagnostic.code, err.diagnostic.pointer) == ("invalid-auth", pointer)
    assert says in err.diagnostic.message
