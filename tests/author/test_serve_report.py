"""serve's summary on stop: the failures by error code on screen, or (--format json) one JSON
object; a real server (subprocess, loopback) on an `init` manifest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from manifest_runtime.cli import main


def _setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    """An `init` manifest set up in this test's state file (conftest's), for the server."""
    monkeypatch.chdir(tmp_path)
    assert main(["init", "hooks", "--no-input"]) == 0
    assert main(["setup", "hooks/manifest.yaml", "--answers", "hooks/answers.yaml",
                 "--replay", "hooks/cassette.yaml"]) == 0
    return tmp_path / "hooks/manifest.yaml", dict(os.environ)


def _serve(manifest: Path, env: dict[str, str], *extra: str) -> tuple[int, str, str]:
    argv = [sys.executable, "-m", "manifest_runtime", "serve", str(manifest), "--port", "0",
            "--no-register", *extra]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as proc:
        try:
            assert proc.stderr is not None
            url = None
            deadline = time.monotonic() + 30
            while url is None and time.monotonic() < deadline:
                line = proc.stderr.readline()
                if "receiving webhooks at " in line:
                    url = line.split("receiving webhooks at ", 1)[1].split(";", 1)[0]
            assert url is not None, "serve did not start"
            good = httpx.post(url, json={"data": {"email": "ada@example.com"}}, timeout=10)
            bad = httpx.post(url, json={"data": {"first_name": "Nobody"}}, timeout=10)
            assert (good.json(), bad.json()) == ({"delivered": 1, "failed": 0},
                                                 {"delivered": 0, "failed": 1})
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return proc.returncode, out, err


def test_serve_prints_why_webhooks_failed(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    manifest, env = _setup(tmp_path, monkeypatch)
    capsys.readouterr()
    code, out, _ = _serve(manifest, env)
    assert code == 128 + signal.SIGTERM
    assert "received 2 webhook(s): delivered 1, failed 1" in out
    assert "1 failure by error code:\n  no-email (1)\n    webhook 2 [transform]: the " \
        "transformed record has no email" in out


def test_serve_format_json_on_stop(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    manifest, env = _setup(tmp_path, monkeypatch)
    capsys.readouterr()
    code, out, _ = _serve(manifest, env, "--format", "json")
    report = json.loads(out)
    assert code == report["exit_code"] == 128 + signal.SIGTERM
    assert (report["received"], report["delivered"], report["failed"]) == (2, 1, 1)
    assert report["ok"] is False and report["signal"] == signal.SIGTERM
    assert report["failures"]["by_code"] == {"no-email": 1}
    assert report["failures"]["first"][0]["record"] == 2
