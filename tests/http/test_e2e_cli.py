"""End to end over real loopback HTTP: `manifest-runtime eval` against fake_api.FakeApi.

Every auth type x every pagination style (cases in e2e/): the paginated options list comes back
whole, each attempt is traced, oauth2 refreshes and saves rotated tokens, sessions log in again,
and the recorded cassette replays offline (server gone) with identical output. e2e/faults.yaml:
429 / 5xx / dropped connections / stalls are survived or reported. No output contains a secret.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_api import CONTACTS, FakeApi, running

from manifest_runtime.cli import main
from manifest_runtime.compile import load_and_compile
from manifest_runtime.http import build_http_service

E2E = Path(__file__).parent / "e2e"
AUTHS = sorted(p.stem for p in (E2E / "auth").glob("*.yaml"))
STYLES = sorted(p.stem for p in (E2E / "pagination").glob("*.yaml"))
FAULTS = yaml.safe_load((E2E / "faults.yaml").read_text(encoding="utf-8"))
OPTIONS = "/workflows/0/setup/select/form_fields/0/options"
EXPECTED = [{"display": c["name"], "value": c["id"]} for c in CONTACTS]
MARKER = "SECRET"


@dataclass
class Case:
    manifest: Path
    credentials: Path
    fragment: dict[str, Any]

    @property
    def host(self) -> str:
        return str(self.fragment["host"])

    @property
    def server(self) -> dict[str, Any]:
        return dict(self.fragment["server"])


def build(tmp_path: Path, auth: str, style: str) -> Case:
    """base.yaml + auth/<auth>.yaml + pagination/<style>.yaml, and its credentials file."""
    fragment = yaml.safe_load((E2E / "auth" / f"{auth}.yaml").read_text(encoding="utf-8"))
    data = yaml.safe_load((E2E / "base.yaml").read_text(encoding="utf-8"))
    data["auth"] = {"main": fragment["auth"]}
    data["api"].update(fragment.get("api") or {})
    data["api"]["pagination"] = yaml.safe_load(
        (E2E / "pagination" / f"{style}.yaml").read_text(encoding="utf-8"))
    manifest = tmp_path / f"{auth}-{style}.yaml"
    manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text(yaml.safe_dump({"main": fragment["credentials"]}), encoding="utf-8")
    return Case(manifest, credentials, fragment)


def eval_cli(capsys: pytest.CaptureFixture[str], case: Case, *options: str,
             pointer: str = OPTIONS) -> tuple[int, str, str]:
    code = main(["eval", str(case.manifest), pointer, "--credentials", str(case.credentials),
                 "--trace", *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def http_lines(stderr: str, path: str = "/v1/contacts") -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("http: ") and path in line]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert MARKER not in text, f"a credential leaked: {text[:800]}"


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("auth", AUTHS)
def test_each_auth_and_pagination_style_runs_then_replays(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], auth: str, style: str) -> None:
    case = build(tmp_path, auth, style)
    cassette = tmp_path / "cassette.yaml"
    with running(case.server) as api:
        code, out, err = eval_cli(capsys, case, "--remap", f"{case.host}={api.url}",
                                  "--record", str(cassette))
        assert code == 0, out + err
        assert json.loads(out) == EXPECTED
        pages = [r for r in api.requests if r.path == "/v1/contacts" and r.method == "GET"]
        assert all(r.query["sort"] == "asc" for r in pages)  # extra / ordering sent every time
        assert len(pages) >= 3
        assert len(http_lines(err)) == len(pages)  # every attempt is in the trace
        saved = yaml.safe_load(case.credentials.read_text(encoding="utf-8"))["main"]
        if auth == "oauth2":  # 401 -> refresh -> retry; the rotated refresh token is kept
            assert [r.path for r in api.requests[:3]] == \
                ["/v1/contacts", "/oauth/refresh", "/v1/contacts"]
            assert saved["refresh_token"] == api.current_refresh_token != "ref-SECRET-0"
            assert any("[auth-refresh] -> 200" in line for line in err.splitlines())
        else:
            assert saved == case.fragment["credentials"]
        if auth == "session":  # a token lasts two requests: log in, then again for page 3
            assert [r.path for r in api.requests].count("/login") == 2
    replay_code, replay_out, replay_err = eval_cli(capsys, case, "--replay", str(cassette))
    assert replay_code == 0, replay_err
    assert replay_out == out
    assert "(replayed)" in replay_err
    assert_no_secret(out, err, replay_out, replay_err, cassette.read_text(encoding="utf-8"))


LAST_PAGE = {"page": {"meta": {"total_pages": 3, "page": 3}},
             "limitoffset": {"total_items": 7, "offset": 6},
             "cursor": {"next_cursor": None}}


@pytest.mark.parametrize("style", STYLES)
def test_merged_pages_keep_the_last_pages_pointers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], style: str) -> None:
    """Items of every page; cursors, page numbers and offsets from the last page, so a step
    reading them never concludes that more pages exist (DESIGN §4)."""
    case = build(tmp_path, "token", style)
    data = yaml.safe_load(case.manifest.read_text(encoding="utf-8"))
    data["workflows"][0]["setup"]["select"]["form_fields"][0]["options"] = {
        "!pipe": [{"!http": {"method": "GET", "path": "/contacts", "pagination": True}},
                  {"!jq": ".body | del(.contacts) + {count: (.contacts | length)}"}]}
    case.manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with running(case.server) as api:
        code, out, err = eval_cli(capsys, case, "--remap", f"{case.host}={api.url}")
    assert code == 0, err
    assert json.loads(out) == {**LAST_PAGE[style], "count": len(CONTACTS)}


@pytest.mark.parametrize("auth", AUTHS)
def test_verify_url_check_against_the_server(tmp_path: Path, auth: str) -> None:
    """What setup will call: 200 from verify_url (oauth2: a successful refresh) = valid."""
    case = build(tmp_path, auth, "page")
    compiled = load_and_compile(str(case.manifest))
    with running(case.server) as api:
        service = build_http_service(compiled, "main", credentials_file=case.credentials,
                                     remaps=[f"{case.host}={api.url}"])
        with service:
            ok, detail = service.verify()
            assert ok, detail
            wrong = service.credentials.updated(token="nope", password="nope",
                                                refresh_token="nope")
            bad, why = service.verify(wrong)
        assert not bad and why
        assert_no_secret(detail, why)


@pytest.mark.parametrize("case", FAULTS, ids=[c["name"] for c in FAULTS])
def test_misbehaving_server(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            case: dict[str, Any]) -> None:
    built = build(tmp_path, "token", "page")
    (path, _), = case["faults"].items()
    with FakeApi(built.server, {k: list(v) for k, v in case["faults"].items()}) as api:
        code, out, err = eval_cli(capsys, built, "--remap", f"{built.host}={api.url}",
                                  *case.get("options", []), pointer=case.get("pointer", OPTIONS))
    assert code == case["exit"], err
    lines = http_lines(err, path)[: len(case["attempts"])]
    assert len(lines) == len(case["attempts"]), err
    for number, (line, outcome) in enumerate(zip(lines, case["attempts"], strict=True), 1):
        assert f"attempt {number} -> " in line and outcome in line, line
    if code == 0:
        assert json.loads(out) == case.get("output", EXPECTED)
    for text in case.get("error", []):
        assert text in err
    assert "Traceback" not in err
    assert_no_secret(out, err)


def test_the_installed_command_over_real_http(tmp_path: Path) -> None:
    """The same run as a separate process, as a user types it."""
    case = build(tmp_path, "session", "cursor")
    with running(case.server, {"/v1/contacts": ["429"]}) as api:
        proc = subprocess.run(
            [sys.executable, "-m", "manifest_runtime", "eval", str(case.manifest), OPTIONS,
             "--credentials", str(case.credentials), "--remap", f"{case.host}={api.url}",
             "--trace"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == EXPECTED
    assert "attempt 2 -> 200" in proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)
