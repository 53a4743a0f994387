"""No incoming secret out of place (issue 10.5): a real `serve --trace --dead-letter FILE`
receives webhooks carrying secrets in every place a request has them (authorization, cookie,
API-key, token, secret and signature headers; secret query values; secret fields of JSON and
form bodies; a body that is not JSON), made to fail at every stage; then every output is
searched for them: stdout, stderr with the trace, the dead-letter file, the state file's
bytes (database and write-ahead log) and `state show`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fake_provider import FakeProvider
from test_serve import MANIFEST, SETUP, _lines, _wait_for_url, dead_letters, journal, seed

from manifest_runtime.cli import main

MARK = "PLANTED"
HEADERS = {
    "Authorization": f"Bearer {MARK}-bearer-1",
    "Cookie": f"session={MARK}-cookie-2; theme=dark",
    "X-Api-Key": f"{MARK}-xkey-3",
    "X-Hub-Signature-256": f"sha256={MARK}-sig-4",
    "X-Webhook-Secret": f"{MARK}-secret-5",
    "X-Auth-Token": f"{MARK}-token-6",
    "Proxy-Authorization": f"Basic {MARK}-proxy-12",
}
QUERY = f"?api_key={MARK}-qkey-7&access_token={MARK}-qtok-8&sig={MARK}-qsig-9&name=Query"
# verification passes signed requests and fails, quoting the whole request, on X-Fail
VERIFICATION = """    verification: !switch
      jq: >-
        if .headers["x-fail"] == "1" then error("rejected \\(.headers) \\(.url)
        \\(.query_params) \\(.raw_body)")
        elif (.headers["x-hub-signature-256"] // "" | startswith("sha256=")) then 0 else 1 end
      cases:
        - !respond {process_payload: true}
        - !respond {code: 401, body: {error: bad signature}}
"""


def manifest(tmp_path: Path) -> Path:
    text = Path(MANIFEST).read_text()
    start, end = text.index("    verification: !switch"), text.index("workflows:")
    path = tmp_path / "secrets.yaml"
    path.write_text(text[:start] + VERIFICATION + text[end:])
    return path


def test_planted_secrets_appear_in_no_output(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    dead_file = tmp_path / "dead.jsonl"
    with FakeProvider() as provider:
        argv = [sys.executable, "-m", "manifest_runtime", "serve", str(manifest(tmp_path)),
                "--port", "0", "--trace", "--dead-letter", str(dead_file),
                "--remap", f"https://hooks.example.test={provider.url}"]
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            err_lines, pump = _lines(proc.stderr)
            seen: list[str] = []
            try:
                url = _wait_for_url(proc, err_lines, seen) + QUERY
                no_email = {"contact": {"name": "NoEmail", "password": f"{MARK}-body-10"}}
                replies = [
                    # verified, then the transform fails (no email): a dead letter
                    httpx.post(url, json=no_email, headers=HEADERS),
                    # verification fails, its error quoting headers, URL, query and body
                    httpx.post(url, json=no_email, headers={**HEADERS, "X-Fail": "1"}),
                    # no body: the payload is the query parameters
                    httpx.post(url, headers=HEADERS),
                    # a form body with a secret field
                    httpx.post(url, headers={**HEADERS, "Content-Type":
                                             "application/x-www-form-urlencoded"},
                               content=f"name=Form&password={MARK}-form-11"),
                    # a body that is not JSON (kept as text in its dead letter)
                    httpx.post(url, headers={**HEADERS, "Content-Type": "application/json"},
                               content=f'{{"password": "{MARK}-raw-13", '),
                ]
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
                assert proc.stdout is not None
                out = proc.stdout.read()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                pump.join(10)
        while not err_lines.empty():
            seen.append(err_lines.get())
    err = "".join(seen)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert [r.status_code for r in replies] == [200, 500, 200, 200, 400]
    # the outputs are there to be searched: a trace of the verification's input, 5 dead
    # letters (one per webhook, each stage), the summary
    assert "trace: /data_intake/0/verification !switch" in err
    assert '"x-api-key": "***"' in err and '"authorization": "***"' in err
    assert "received 5 webhook(s)" in out
    assert [(d.record_no, d.stage) for d in dead_letters()] == [
        (1, "transform"), (2, "verification"), (3, "transform"), (4, "transform"), (5, "read")]
    assert "rejected {" in dead_letters()[1].message  # the error did quote the request
    assert [e.outcome for e in journal()] == ["failed"] * 5
    capsys.readouterr()
    assert main(["state", "show"]) == 0
    assert main(["state", "show", "--format", "json"]) == 0
    shown = capsys.readouterr().out
    outputs = {"stdout": out, "stderr": err, "dead-letter file": dead_file.read_text(),
               "state show": shown}
    db = Path(os.environ["MANIFEST_RUNTIME_STATE"])
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            outputs[path.name] = path.read_bytes().decode("utf-8", "replace")
    leaks = {name: text[max(0, text.index(MARK) - 80): text.index(MARK) + 40]
             for name, text in outputs.items() if MARK in text}
    assert leaks == {}


def test_scoped_secrets_are_masked_in_their_thread_only_and_whole() -> None:
    import threading

    from manifest_runtime.http.redact import Redactor
    from manifest_runtime.intake.webhook import Incoming, secrets_of

    redactor = Redactor(["ours-token-1"])
    incoming = Incoming("POST", "http://h/w?api_key=q-secret-1&page=2", [
        ("api_key", "q-secret-1"), ("page", "2")], [
        ("Authorization", "Bearer b-secret-2"), ("Cookie", "a=c-secret-3; b=c-secret-4"),
        ("Stripe-Signature", "t=1,v1=s-secret-5"), ("X-Request-Id", "not-a-secret")],
        b'{"password": "p-secret-6", "name": "Ada"}')
    found = secrets_of(incoming)
    for value in ("q-secret-1", "b-secret-2", "c-secret-3", "c-secret-4", "s-secret-5",
                  "p-secret-6"):
        assert value in found
    assert "not-a-secret" not in found and "Ada" not in found
    other: list[str] = []
    with redactor.scoped(["xx-ours-token-1-xx", *found]):
        # a scoped secret holding a run-wide one is masked whole, not around it
        assert redactor.text("xx-ours-token-1-xx b-secret-2") == "*** ***"
        with redactor.scoped(["nested-7"]):
            assert redactor.text("nested-7 c-secret-3") == "*** ***"
        assert redactor.text("nested-7") == "nested-7"
        thread = threading.Thread(target=lambda: other.append(redactor.text("b-secret-2")))
        thread.start()
        thread.join()
    assert other == ["b-secret-2"]  # another thread: not this webhook's secrets
    assert redactor.text("b-secret-2 ours-token-1") == "b-secret-2 ***"
