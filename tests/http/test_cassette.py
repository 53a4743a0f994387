from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import pytest
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

from manifest_runtime.cli import main
from manifest_runtime.errors import UsageError
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


TOKEN_AUTH = {"type": "token", "header_key": "K", "verify_url": "x"}


def test_recording_appends_one_item_per_exchange(harness: Harness, tmp_path: Path) -> None:
    cassette = tmp_path / "a.yaml"
    client = harness.client(manifest(TOKEN_AUTH), lambda r: json_response(
        200, {"path": r.url.path, "text": "é \u2028 \x85 \U0001F600 'q' \"dq\" #c: x"}),
        Credentials(token=TOKEN), record=str(cassette))
    assert cassette.read_text() == "version: 1\ninteractions:\n"  # written at creation
    assert yaml.safe_load(cassette.read_text()) == {"version": 1, "interactions": None}
    texts = []
    for n in range(1, 4):
        client.send(HttpRequest("GET", f"https://api.example.com/p{n}", params={"n": n}))
        texts.append(cassette.read_text(encoding="utf-8"))
        data = yaml.safe_load(texts[-1])  # valid YAML after every exchange
        assert [e["request"]["url"] for e in data["interactions"]] == \
            [f"https://api.example.com/p{i}" for i in range(1, n + 1)]
    assert texts[1].startswith(texts[0]) and texts[2].startswith(texts[1])  # appended
    assert client.cassette is not None and client.cassette.recorded == 3
    replay = harness.client(manifest(TOKEN_AUTH), None, Credentials(token=TOKEN),
                            replay=str(cassette))
    assert replay.send(HttpRequest("GET", "https://api.example.com/p2", params={"n": 2})).body \
        == {"path": "/p2", "text": "é \u2028 \x85 \U0001F600 'q' \"dq\" #c: x"}


def test_an_empty_recording_replays_as_empty(harness: Harness, tmp_path: Path) -> None:
    cassette = tmp_path / "empty.yaml"
    harness.client(manifest(TOKEN_AUTH), None, Credentials(token=TOKEN), record=str(cassette))
    replay = harness.client(manifest(TOKEN_AUTH), None, replay=str(cassette))
    err = harness.error(lambda: replay.send(HttpRequest("GET", "https://api.example.com/x")))
    assert "the cassette is empty" in err.diagnostic.message


def test_cassettes_written_whole_still_replay(harness: Harness, tmp_path: Path) -> None:
    """The format before appending: one safe_dump of the whole mapping (and `[]` when empty);
    a URL recorded with an encoded mask (%2A%2A%2A) matches too."""
    entry = {"request": {"method": "GET", "url": "https://api.example.com/a/%2A%2A%2A/b",
                         "query": {"q": "1"}, "headers": {"K": "***"}, "body": None},
             "response": {"status": 200, "headers": {"content-type": "application/json"},
                          "body": {"ok": True}}}
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump({"version": 1, "interactions": [entry]}, sort_keys=False))
    replay = harness.client(manifest(TOKEN_AUTH), None, replay=str(old))
    assert replay.send(HttpRequest("GET", "https://api.example.com/a/***/b?q=1")).body == \
        {"ok": True}
    empty = tmp_path / "old-empty.yaml"
    empty.write_text(yaml.safe_dump({"version": 1, "interactions": []}))
    harness.client(manifest(TOKEN_AUTH), None, replay=str(empty))


def test_encoded_mask_in_a_url_matches_the_recorded_mask(harness: Harness,
                                                         tmp_path: Path) -> None:
    """A secret echoed in a response replays as `***`; a later URL built from it (percent-
    encoded: %2A%2A%2A) must still match the recording, where the secret was masked."""
    cassette = tmp_path / "chain.yaml"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/accounts":
            return json_response(200, {"accounts": [{"key": TOKEN}]})
        return json_response(200, {"numbers": ["+1555"], "path": request.url.path})

    def chain(client: Any) -> Any:
        key = client.send(HttpRequest("GET", "https://api.example.com/accounts")) \
            .body["accounts"][0]["key"]
        return client.send(HttpRequest(
            "GET", f"https://api.example.com/accounts/{quote(key, safe='')}/numbers")).body

    recorded = chain(harness.client(manifest(TOKEN_AUTH), handler, Credentials(token=TOKEN),
                                    record=str(cassette)))
    assert recorded["numbers"] == ["+1555"]
    replayed = chain(harness.client(manifest(TOKEN_AUTH), None, Credentials(token=TOKEN),
                                    replay=str(cassette)))
    assert replayed == {"numbers": ["+1555"], "path": "/accounts/***/numbers"}


def test_record_into_a_missing_directory_is_a_usage_error(harness: Harness,
                                                          tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "c.yaml"
    with pytest.raises(UsageError, match="does not exist") as info:
        harness.client(manifest(TOKEN_AUTH), None, record=str(target))
    assert str(target) in str(info.value) and str(target.parent) in str(info.value)
    with pytest.raises(UsageError, match="it is a directory"):
        harness.client(manifest(TOKEN_AUTH), None, record=str(tmp_path))


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("", "expected a mapping"),
    ("a: [", "not valid YAML (did not find expected node content at line 2"),
    ("version: 1\ninteractions: {}\n", "'interactions' must be a list"),
    ("version: 1\ninteractions:\n- response: {}\n", "interaction 1 has no 'request'"),
    ("version: 9\ninteractions: []\n", "unknown cassette version 9"),
    (b"\xff\xfe\x00", "not a UTF-8 text file"),
])
def test_unusable_replay_files_are_usage_errors(harness: Harness, tmp_path: Path,
                                                content: str | bytes | None,
                                                message: str) -> None:
    file = tmp_path / "bad.cassette"  # not *.yaml: the leak guard reads those
    if isinstance(content, bytes):
        file.write_bytes(content)
    elif content is not None:
        file.write_text(content)
    with pytest.raises(UsageError) as info:
        harness.client(manifest(TOKEN_AUTH), None, replay=str(file))
    assert f"--replay {file}: cannot replay: " in str(info.value)
    assert message in str(info.value) and "--record" in str(info.value)


def test_cassette_problems_on_the_command_line(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[2] / "examples/activetrail-contacts/manifest.yaml"
    for option, path, text in [
        ("--record", tmp_path / "missing" / "c.yaml", "does not exist"),
        ("--replay", tmp_path / "missing.yaml", "no such file"),
    ]:
        assert main(["eval", str(example), "/workflows/0/data_pipeline/source", option,
                     str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("manifest-runtime: error: ") and text in err
        assert "Traceback" not in err


def test_record_modes_keep_comments_and_match_and_rewrite_an_old_cassette(
        harness: Harness, tmp_path: Path) -> None:
    """append to a cassette written whole (flow style) rewrites it once in the appendable
    form; `all` drops the interactions but keeps the leading comments and `match`."""
    cassette = tmp_path / "old.yaml"
    cassette.write_text("# recorded by hand\nversion: 1\nmatch: {ignore: [body.ts]}\n"
                        "interactions: [{request: {method: GET, url: 'https://api.example.com/a'"
                        "}, response: {status: 200, body: {n: 0}}}]\n", encoding="utf-8")

    def one(mode: str) -> None:
        client = harness.client(manifest(TOKEN_AUTH), lambda r: json_response(200, {"n": 1}),
                                Credentials(token=TOKEN), record=str(cassette),
                                record_mode=mode)
        client.send(HttpRequest("GET", "https://api.example.com/b"))

    one("append")
    data = yaml.safe_load(cassette.read_text())
    assert [e["request"]["url"] for e in data["interactions"]] == \
        ["https://api.example.com/a", "https://api.example.com/b"]
    assert data["match"] == {"ignore": ["body.ts"]}
    assert cassette.read_text().startswith("# recorded by hand\n")
    one("all")
    data = yaml.safe_load(cassette.read_text())
    assert [e["request"]["url"] for e in data["interactions"]] == ["https://api.example.com/b"]
    assert data["match"] == {"ignore": ["body.ts"]}
    assert cassette.read_text().startswith("# recorded by hand\n")
    with pytest.raises(UsageError, match="the cassette exists already"):
        one("new")
