"""Redirects, header merging, replay without credentials, verify keeping rotated tokens, and
secrets in `!http` error messages (review findings on the HTTP client)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from http_helpers import ACCESS, NEW_ACCESS, NEW_REFRESH, REFRESH, TOKEN, Harness, json_response
from http_helpers import manifest as http_manifest

from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.types import HttpRequest

TOKEN_AUTH = {"type": "token", "header_key": "Api-Token", "token_prefix": "Bearer ",
              "verify_url": "https://api.example.com/me"}
OAUTH = {"type": "oauth2", "configuration": {
    "authorization_base_url": "https://auth.example.com/a", "client_id": "app",
    "client_secret": "cs-SECRET-x", "scopes": [], "token_url": "https://auth.example.com/t",
    "refresh_url": "https://auth.example.com/refresh", "include_client_id": True}}


def redirect(to: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": to})


def test_credentials_do_not_follow_a_redirect_to_another_origin(harness: Harness) -> None:
    seen: dict[str, httpx.Headers] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[str(request.url.host) + request.url.path] = request.headers
        if request.url.path == "/a":
            return redirect("/b")  # same origin: the token goes along
        if request.url.path == "/b":
            return redirect("https://files.example.net/c")
        return json_response(200, {"done": True})

    client = harness.client(http_manifest(TOKEN_AUTH), handler, Credentials(token=TOKEN))
    response = client.send(HttpRequest("GET", "https://api.example.com/a"))
    assert response.body == {"done": True}
    assert response.url == "https://files.example.net/c"
    assert seen["api.example.com/b"]["Api-Token"] == f"Bearer {TOKEN}"  # one space, not two
    assert "api-token" not in seen["files.example.net/c"]
    assert [(e.purpose, e.status) for e in harness.events] == \
        [("redirect", 302), ("redirect", 302), ("request", 200)]
    assert harness.events[-1].url == "https://files.example.net/c"


def test_303_after_post_becomes_get_and_loops_end(harness: Harness) -> None:
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        if request.url.path == "/loop":
            return redirect("/loop", 307)
        return redirect("/done", 303) if request.method == "POST" else json_response(200, {})

    client = harness.client(http_manifest(TOKEN_AUTH), handler, Credentials(token=TOKEN))
    client.send(HttpRequest("POST", "https://api.example.com/start", json={"a": 1}))
    assert methods == ["POST", "GET"]
    err = harness.error(lambda: client.send(HttpRequest("GET", "https://api.example.com/loop")))
    assert "redirects" in err.diagnostic.message


def test_manifest_header_does_not_duplicate_the_auth_header(harness: Harness) -> None:
    client = harness.client(http_manifest(TOKEN_AUTH), lambda r: json_response(200, {}),
                            Credentials(token=TOKEN))
    client.send(HttpRequest("GET", "https://api.example.com/x",
                            headers={"api-token": "from-manifest", "Accept": "text/csv"}))
    sent = harness.requests[0].headers
    assert sent.get_list("api-token") == [f"Bearer {TOKEN}"]
    assert sent["accept"] == "text/csv"


def test_replay_needs_no_credentials_and_never_saves_masked_tokens(harness: Harness,
                                                                    tmp_path: Path) -> None:
    cassette = tmp_path / "c.yaml"
    calls = iter([json_response(401, {}),
                  json_response(200, {"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH}),
                  json_response(200, {"items": [1]})])
    saved: list[Credentials] = []
    live = harness.client(http_manifest(OAUTH), lambda r: next(calls),
                          Credentials(access_token=ACCESS, refresh_token=REFRESH),
                          record=str(cassette), on_credentials_changed=saved.append)
    body = live.send(HttpRequest("GET", "https://api.example.com/items")).body
    assert saved[-1].refresh_token == NEW_REFRESH
    saved.clear()
    replay = harness.client(http_manifest(OAUTH), None, None, replay=str(cassette),
                            on_credentials_changed=saved.append)
    assert replay.send(HttpRequest("GET", "https://api.example.com/items")).body == body
    assert saved == []  # the replayed "***" tokens are not passed on to be saved


def test_verify_keeps_a_rotated_refresh_token(harness: Harness) -> None:
    refresh_tokens = [REFRESH]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/refresh":
            given = dict(httpx.QueryParams(request.content.decode()))["refresh_token"]
            if given != refresh_tokens[-1]:
                return json_response(400, {"error": "invalid_grant"})
            refresh_tokens.append(f"{NEW_REFRESH}-{len(refresh_tokens)}")
            return json_response(200, {"access_token": NEW_ACCESS,
                                       "refresh_token": refresh_tokens[-1], "expires_in": 1})
        return json_response(200, {})

    saved: list[Credentials] = []
    client = harness.client(http_manifest(OAUTH), handler,
                            Credentials(access_token=ACCESS, refresh_token=REFRESH),
                            on_credentials_changed=saved.append)
    assert client.verify()[0]
    assert saved[-1].refresh_token == refresh_tokens[-1]
    client.send(HttpRequest("GET", "https://api.example.com/items"))  # expired: refresh again
    assert [r.url.path for r in harness.requests].count("/refresh") == 2
    assert harness.requests[-1].url.path == "/items"


@pytest.mark.parametrize("echo", [
    {"note": "x" * 277 + TOKEN},  # cut by the 300-character excerpt
    {"session_token": "tok-SECRET-unknown-to-the-client"},  # masked by name
])
def test_http_status_error_never_shows_a_secret(harness: Harness, tmp_path: Path,
                                                echo: dict[str, str]) -> None:
    from manifest_runtime.compile import load_and_compile
    from manifest_runtime.errors import EvaluationError
    from manifest_runtime.runtime.context import Env, EvalContext
    from manifest_runtime.runtime.run import run_at

    file = tmp_path / "m.yaml"
    file.write_text(
        "$version: '2'\nauth: {main: {type: token, header_key: Api-Token, verify_url: "
        "'https://api.example.com/me'}}\napi: {base_url: 'https://api.example.com'}\n"
        "workflows: []\nobjects: [{id: o, label: O, x: {'!http': {method: GET, url: 'https://api.example.com/x'}}}]\n")
    compiled = load_and_compile(str(file))
    client = harness.client(http_manifest(TOKEN_AUTH), lambda r: json_response(400, echo),
                            Credentials(token=TOKEN))
    env = Env(http=client, redact=client.redactor.text, redact_value=client.redactor.value)
    with pytest.raises(EvaluationError) as info:
        run_at(compiled, ("objects", 0, "x"), None, EvalContext.create(env=env))
    message = info.value.diagnostic.message
    harness.texts.append(message)
    assert "returned HTTP 400" in message and "SECRET" not in message
