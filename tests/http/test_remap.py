from __future__ import annotations

import httpx
import pytest
from http_helpers import ACCESS, REFRESH, Harness, json_response, manifest

from manifest_runtime.errors import UsageError
from manifest_runtime.http import parse_remap
from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.remap import apply_remaps
from manifest_runtime.http.types import HttpRequest


def test_parse_and_apply() -> None:
    remap = parse_remap("https://api.example.com=http://127.0.0.1:8080")
    assert apply_remaps("https://api.example.com/v1/x?a=1", [remap]) == \
        "http://127.0.0.1:8080/v1/x?a=1"
    assert apply_remaps("https://API.example.com:443/y", [remap]) == "http://127.0.0.1:8080/y"
    assert apply_remaps("https://api.example.com:8443/y", [remap]) == \
        "https://api.example.com:8443/y"
    assert apply_remaps("https://other.example.com/y", [remap]) == "https://other.example.com/y"


@pytest.mark.parametrize("text", ["https://a.example.com", "=http://b", "ftp://a=http://b",
                                  "https://a.example.com/path=http://b",
                                  "https://a=http://b?x=1", "a.example.com=b.example.com"])
def test_bad_remaps_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--remap"):
        parse_remap(text)


def test_remap_applies_to_requests_and_auth_urls(harness: Harness) -> None:
    auth = {"type": "oauth2", "configuration": {
        "authorization_base_url": "https://auth.example.com/a", "client_id": "c",
        "client_secret": "s", "scopes": [], "token_url": "https://auth.example.com/t",
        "refresh_url": "https://auth.example.com/refresh", "include_client_id": True}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/refresh":
            return json_response(200, {"access_token": ACCESS + "x"})
        return json_response(200, {"host": request.url.host})

    client = harness.client(manifest(auth), handler,
                            Credentials(refresh_token=REFRESH),
                            remaps=[parse_remap("https://api.example.com=http://127.0.0.1:9"),
                                    parse_remap("https://auth.example.com=http://localhost:7")])
    response = client.send(HttpRequest("GET", "https://api.example.com/me"))
    assert [str(r.url) for r in harness.requests] == [
        "http://localhost:7/refresh", "http://127.0.0.1:9/me"]
    assert response.body == {"host": "127.0.0.1"}
    # the trace shows the manifest's URL (before remap)
    assert harness.events[-1].url == "https://api.example.com/me"
