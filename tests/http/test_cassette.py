from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import yaml
from http_helpers import (
    ACCESS,
    CLIENT_SECRET,
    NEW_ACCESS,
    NEW_REFRESH,
    REFRESH,
    TOKEN,
    Harness,
    json_response,
    manifest,
)

from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.types import HttpRequest

OAUTH = {"type": "oauth2", "configuration": {
    "authorization_base_url": "https://auth.example.com/a", "client_id": "app",
    "client_secret": CLIENT_SECRET, "scopes": [], "token_url": "https://auth.example.com/t",
    "refresh_url": "https://auth.example.com/refresh", "include_client_id": True}}
API = {"base_url": "https://api.example.com",
       "pagination": {"style": {"type": "page", "page_number": {"param": "page", "value": 1}},
                      "parser": {"total_pages": {"!jq": ".pages"}}}}


def live(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/refresh":
        assert parse_qs(request.content.decode())["refresh_token"] == [REFRESH]
        return json_response(200, {"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH,
                                   "expires_in": 3600}, {"Set-Cookie": f"s={NEW_ACCESS}"})
    if request.url.path == "/status":
        assert "Authorization" not in request.headers
        return httpx.Response(200, text="up")
    if request.headers.get("Authorization") != f"Bearer {NEW_ACCESS}":
        return json_response(401, {"error": "expired"})
    if request.method == "POST":
        return json_response(201, {"id": 7, "email": json.loads(request.content)["email"]})
    page = int(request.url.params.get("page", "1"))
    return json_response(200, {"pages": 2, "contacts": [{"id": page}]})


def scenario(client: Any) -> list[Any]:
    out = [client.send(HttpRequest("GET", "https://api.example.com/contacts", pagination=True,
                                   params={"token": TOKEN, "q": "a"}))]
    out.append(client.send(HttpRequest("POST", "https://api.example.com/contacts",
                                       headers={"X-Trace": "1"},
                                       json={"email": "a@x.test", "password": TOKEN})))
    out.append(client.send(HttpRequest("GET", "https://api.example.com/status",
                                       target="external")))
    return out


def creds() -> Credentials:
    return Credentials(access_token=ACCESS, refresh_token=REFRESH, token=TOKEN)


def test_record_then_replay_gives_identical_output(harness: Harness, tmp_path: Path) -> None:
    cassette = tmp_path / "run.yaml"
    recorded = scenario(harness.client(manifest(OAUTH, API), live, creds(),
                                       record=str(cassette)))
    text = cassette.read_text()
    data = yaml.safe_load(text)
    assert len(data["interactions"]) == 6  # 401, refresh, 2 pages, POST, external
    refresh = data["interactions"][1]
    assert refresh["request"]["body"]["refresh_token"] == "***"
    assert refresh["request"]["body"]["client_secret"] == "***"
    assert refresh["response"]["body"]["access_token"] == "***"
    assert refresh["response"]["headers"]["set-cookie"] == "***"
    assert data["interactions"][4]["request"]["body"] == {"email": "a@x.test",
                                                          "password": "***"}
    page = data["interactions"][2]["request"]
    assert page["query"] == {"token": "***", "q": "a", "page": "1"}
    assert page["headers"]["Authorization"] == "***"

    sent_before = len(harness.requests)
    replayed = scenario(harness.client(manifest(OAUTH, API), None, creds(),
                                       replay=str(cassette)))
    assert replayed == recorded
    assert len(harness.requests) == sent_before  # nothing went to the transport
    assert all(e.replayed for e in harness.events[-6:])


def test_scrubbed_cassette_replays_without_credentials(harness: Harness,
                                                       tmp_path: Path) -> None:
    cassette = tmp_path / "c.yaml"
    recorded = scenario(harness.client(manifest(OAUTH, API), live, creds(),
                                       record=str(cassette)))
    # a different machine: other (or no) tokens; auth headers are not part of matching
    other = Credentials(access_token="other-SECRET-a", refresh_token="other-SECRET-r",
                        token=TOKEN)
    assert scenario(harness.client(manifest(OAUTH, API), None, other,
                                   replay=str(cassette))) == recorded


def test_unmatched_replay_names_request_and_closest(harness: Harness, tmp_path: Path) -> None:
    cassette = tmp_path / "u.yaml"
    client = harness.client(manifest({"type": "token", "header_key": "K", "verify_url": "x"}),
                            lambda r: json_response(200, {"n": 1}), Credentials(token=TOKEN),
                            record=str(cassette))
    client.send(HttpRequest("GET", "https://api.example.com/contacts?limit=5"))
    client.send(HttpRequest("GET", "https://api.example.com/tags"))
    replay = harness.client(manifest({"type": "token", "header_key": "K", "verify_url": "x"}),
                            None, Credentials(token=TOKEN), replay=str(cassette))
    err = harness.error(lambda: replay.send(
        HttpRequest("GET", "https://api.example.com/contacts?limit=6", where=("a", 1))))
    d = err.diagnostic
    assert d.code == "replay-unmatched" and d.path == ("a", 1)
    assert "for GET https://api.example.com/contacts?limit=6" in d.message
    assert "closest recorded: GET https://api.example.com/contacts?limit=5" in d.message
    # each recorded interaction is served once, in order
    assert replay.send(HttpRequest("GET", "https://api.example.com/tags")).body == {"n": 1}
    err = harness.error(lambda: replay.send(HttpRequest("GET", "https://api.example.com/tags")))
    assert "2 of 2 recorded interactions already used" not in err.diagnostic.message
    assert "1 of 2" in err.diagnostic.message


def test_missing_cassette_file(harness: Harness, tmp_path: Path) -> None:
    err = harness.error(lambda: harness.client(
        manifest({"type": "token", "header_key": "K", "verify_url": "x"}), None,
        replay=str(tmp_path / "nope.yaml")))
    assert err.diagnostic.code == "replay-cassette"
