from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from http_helpers import TOKEN, Harness, json_response, manifest

from manifest_runtime.errors import UsageError
from manifest_runtime.http import build_http_service
from manifest_runtime.http.credentials import ENV_VARS, Credentials, load_credentials, save_rotated
from manifest_runtime.http.types import HttpRequest


def test_json_file_and_env_override(tmp_path: Path) -> None:
    file = tmp_path / "creds.json"
    file.write_text(json.dumps({"main": {"username": "u1", "password": "p1",
                                         "expires_at": "2030-01-31T12:00:00Z"},
                                "other": {"token": "t"}}))
    creds = load_credentials("main", file, env={"MANIFEST_RUNTIME_PASSWORD": "p2"})
    assert creds == Credentials(username="u1", password="p2",
                                expires_at=datetime(2030, 1, 31, 12, tzinfo=UTC))
    assert load_credentials("missing", file, env={}) == Credentials()
    assert creds.as_json()["expires_at"] == "2030-01-31T12:00:00+00:00"


def test_yaml_file_and_env_only(tmp_path: Path) -> None:
    file = tmp_path / "creds.yaml"
    file.write_text("main:\n  token: abc123\n  subdomain: acme\n")
    assert load_credentials("main", file, env={}) == Credentials(token="abc123",
                                                                 subdomain="acme")
    assert load_credentials("main", None, env={ENV_VARS["token"]: "e"}).token == "e"
    assert ENV_VARS["refresh_token"] == "MANIFEST_RUNTIME_REFRESH_TOKEN"


@pytest.mark.parametrize("content, message", [
    ('{"main": {"expires_at": "tomorrow"}}', "ISO 8601"),
    ('{"main": {"tokn": "x"}}', "unknown field"),
    ('{"main": "x"}', "must be an object"),
    ("[1]", "keyed by auth name"),
    ("{", "not valid JSON"),
])
def test_bad_files_are_usage_errors(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "c.json"
    file.write_text(content)
    with pytest.raises(UsageError, match=message):
        load_credentials("main", file, env={})


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        load_credentials("main", tmp_path / "nope.json", env={})


def test_build_http_service(harness: Harness, tmp_path: Path) -> None:
    file = tmp_path / "creds.json"
    file.write_text(json.dumps({"main": {"token": TOKEN}}))
    compiled = harness.compile(manifest({"type": "token", "header_key": "K",
                                         "verify_url": "https://api.example.com/me"}))
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, {"ok": True})

    service = build_http_service(
        compiled, "main", credentials_file=file, env={},
        remaps=["https://api.example.com=http://127.0.0.1:1"],
        transport=httpx.MockTransport(handler), trace=harness.events.append)
    harness.clients.append(service)
    assert service.send(HttpRequest("GET", "https://api.example.com/me")).body == {"ok": True}
    assert str(seen[0].url) == "http://127.0.0.1:1/me" and seen[0].headers["K"] == TOKEN
    with pytest.raises(UsageError):
        build_http_service(compiled, "main", remaps=["nonsense"], env={})


def test_rotated_tokens_are_saved_back_keeping_everything_else(tmp_path: Path) -> None:
    file = tmp_path / "creds.json"
    file.write_text(json.dumps({"main": {"access_token": "old", "refresh_token": "r0",
                                         "subdomain": "acme"},
                                "other": {"token": "t"}}))
    env_token = Credentials(access_token="new", refresh_token="r1", token="from-env",
                            expires_at=datetime(2031, 1, 1, tzinfo=UTC))
    save_rotated(file, "main", env_token)
    assert json.loads(file.read_text()) == {
        "main": {"access_token": "new", "refresh_token": "r1", "subdomain": "acme",
                 "expires_at": "2031-01-01T00:00:00+00:00"},  # not the env-only token
        "other": {"token": "t"}}
    assert file.stat().st_mode & 0o777 == 0o600
    assert load_credentials("main", file, env={}).refresh_token == "r1"


@pytest.mark.parametrize("line, field, kind", [
    ("token: 0123", "token", "a number"),  # YAML 1.1 octal: would be sent as '83'
    ("password: 1_000", "password", "a number"),  # would be sent as '1000'
    ("username: 00012345", "username", "a number"),
    ("subdomain: 12", "subdomain", "a number"),
    ("password: yes", "password", "a boolean"),
    ("token: 1.5", "token", "a number"),
    ("token: [a, b]", "token", "a list"),
])
def test_non_string_values_are_refused_not_converted(tmp_path: Path, line: str, field: str,
                                                     kind: str) -> None:
    file = tmp_path / "creds.yaml"
    file.write_text(f"main:\n  {line}\n")
    with pytest.raises(UsageError) as info:
        load_credentials("main", file, env={})
    message = str(info.value)
    assert f"main.{field}: expected a string, got {kind}" in message
    assert f'must be quoted, e.g. {field}: "0123"' in message
    shown = message.split(f"main.{field}: ")[1].split(" (unquoted")[0]
    assert not any(v in shown for v in ("83", "1000", "12345", "True", "1.5"))  # no value


def test_quoted_values_and_yaml_timestamps_load(tmp_path: Path) -> None:
    file = tmp_path / "creds.yaml"
    file.write_text('main:\n  token: "0123"\n  password: "1_000"\n  username: "00012345"\n'
                    "  expires_at: 2030-01-31T12:00:00Z\n")
    assert load_credentials("main", file, env={}) == Credentials(
        token="0123", password="1_000", username="00012345",
        expires_at=datetime(2030, 1, 31, 12, tzinfo=UTC))
    json_file = tmp_path / "creds.json"
    json_file.write_text('{"main": {"token": 123}}')
    with pytest.raises(UsageError, match=r"main\.token: expected a string, got a number"):
        load_credentials("main", json_file, env={})


def test_the_username_is_not_a_secret_value() -> None:
    creds = Credentials(token="t-value", username="AC1234", password="p-value",
                        access_token="a-value", refresh_token="r-value", subdomain="acme")
    assert set(creds.secret_values()) == {"t-value", "p-value", "a-value", "r-value"}
