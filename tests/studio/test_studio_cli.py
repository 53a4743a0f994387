"""`manifest-runtime studio` as a process: it listens on 127.0.0.1 only, says where (text or
one JSON object), serves a page that fetches nothing from elsewhere, and stops on Ctrl-C with
exit 0; usage errors exit 2."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from manifest_runtime.cli import main

from .conftest import EXAMPLE, ROOT, WORKFLOW, Open


def test_the_command_serves_the_page_on_loopback_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "manifest_runtime", "studio", str(EXAMPLE / "manifest.yaml"),
         "--replay", str(EXAMPLE / "cassette.yaml"), "--port", "0", "--format", "json",
         "--state", str(tmp_path / "state.db")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        text = ""
        while not text.rstrip().endswith("}"):
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else "no output"
            text += line
        started = json.loads(text)
        assert started["ok"] and started["command"] == "studio" and started["valid"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", started["url"])
        page = httpx.get(started["url"], timeout=10)
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "manifest-runtime studio" in page.text
        scripts = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert scripts and all(s.startswith("/assets/") for s in scripts)  # nothing external
        for name in ("studio.js", "studio.css"):
            asset = httpx.get(started["url"] + "assets/" + name, timeout=10).text
            assert "http://" not in asset and "https://" not in asset
        assert httpx.get(started["url"] + "assets/mermaid.js", timeout=10).status_code == 200
        assert httpx.get(started["url"] + "assets/other.js", timeout=10).status_code == 404
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["studio", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["studio", str(EXAMPLE / "manifest.yaml"), "--state", ":memory:"]) == 2
    assert "needs a state file" in capsys.readouterr().err
    assert main(["studio", str(EXAMPLE / "manifest.yaml"), "--record", "a.yaml",
                 "--replay", "b.yaml"]) == 2
    assert "--record and --replay" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["studio", str(EXAMPLE / "manifest.yaml"), "--port", "70000"])
    assert stopped.value.code == 2


def test_only_json_posts_and_loopback_host_names_are_served(open_studio: Open) -> None:
    """A form another site makes the browser send (text/plain) is refused, and so is a
    request naming another host (DNS rebinding)."""
    _, client = open_studio(EXAMPLE / "manifest.yaml")
    refused = client.post("/api/setup/start", content=json.dumps({"workflow": WORKFLOW}),
                          headers={"Content-Type": "text/plain"})
    assert refused.status_code == 415 and "application/json" in refused.json()["html"]
    assert client.post("/api/run", content="[1]", headers={
        "Content-Type": "application/json"}).status_code == 415
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "localhost:8790"}).status_code == 200
