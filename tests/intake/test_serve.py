"""`manifest-runtime serve`: the webhook receiver in-process (starlette's TestClient on the
app `serving` builds) and once as a real process on a free port. The provider's registration
API is a loopback fake reached through --remap."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_provider import TOKEN, FakeProvider
from starlette.testclient import TestClient

from manifest_runtime.cli import build_parser, main
from manifest_runtime.cli.serve import Reported, Service, serving
from manifest_runtime.cli.session import compile_or_report
from manifest_runtime.intake import app as app_module
from manifest_runtime.intake.journal import WebhookJournal
from manifest_runtime.pipeline.journal import Journal
from manifest_runtime.state import Setup, StateFile

HERE = Path(__file__).parent
MANIFEST = str(HERE / "webhook.yaml")
APPLICATION = str(HERE / "application.yaml")
URL = "http://127.0.0.1:8787/webhooks/signups-in"
SIGNED = {"X-Signature": "sig-OK"}
SETUP = Setup("signups-in", connection={"account_id": "acc-1", "description": "Signups"},
              mapping={"email": "email", "name": "firstName"},
              selection={"resource_id": "signups", "display": "All signups"},
              credentials={"token": TOKEN})
APP_SETUP = Setup("events-in", connection={"account_id": "acc-1", "description": "Events"},
                  custom_data={"event": {"value": "signup", "display": "Signed up"}},
                  mapping={"email": "email", "name": "firstName"},
                  selection={"resource_id": "signup", "display": "Signed up"},
                  credentials={"token": TOKEN})
ADA = {"contact": {"email": "ada@example.com", "name": "Ada"}}


def state() -> StateFile:
    return StateFile(os.environ["MANIFEST_RUNTIME_STATE"])


def seed(setup: Setup) -> None:
    with state() as s:
        s.save_setup(setup)


@contextmanager
def receiver(provider: FakeProvider, manifest: str = MANIFEST, *options: str
             ) -> Iterator[tuple[TestClient, Service]]:
    args = build_parser().parse_args(
        ["serve", manifest, "--remap", f"https://hooks.example.test={provider.url}", *options])
    compiled = compile_or_report(args.manifest)
    assert compiled is not None
    with serving(args, compiled) as service, TestClient(service.app) as client:
        yield client, service


def journal() -> list[Any]:
    with state() as s:
        return WebhookJournal(s.db, s.lock).entries()


def registration(workflow: str = "signups-in", intake: str = "signup") -> Any:
    with state() as s:
        return WebhookJournal(s.db, s.lock).registration(workflow, intake)


def dead_letters() -> list[Any]:
    with state() as s:
        return Journal(s.db, s.lock).dead_letters()


def saved(scope: str = "workflow") -> dict[str, Any]:
    with state() as s:
        return s.store.get_all(scope)


def contacts(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["sandbox", "contacts", "--format", "json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


@pytest.mark.usefixtures("state_backend")
def test_create_registers_on_start_and_delete_removes_on_stop(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    with FakeProvider() as provider:
        with receiver(provider) as (_, service):
            assert service.url == URL
            assert provider.calls == [("POST", "/api/hooks", {"url": URL, "event": "signup"})]
            assert saved() == {"webhook_id": "hook-1"}  # create's !save
            assert registration().url == URL
        assert provider.calls[1:] == [("DELETE", "/api/hooks/hook-1", None)]
        assert provider.hooks == {}
    assert registration() is None
    err = capsys.readouterr().err
    assert f"registered {URL} (create ran)" in err
    assert f"removed the registration for {URL} (delete ran)" in err
    assert TOKEN not in err


@pytest.mark.usefixtures("state_backend")
def test_a_url_registered_already_is_not_registered_again(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    with FakeProvider() as provider:
        with receiver(provider, MANIFEST, "--keep-registration"):
            pass
        assert [c[0] for c in provider.calls] == ["POST"]  # kept: no DELETE
        assert "registration kept" in capsys.readouterr().err
        with receiver(provider):  # same URL: create does not run again
            assert [c[0] for c in provider.calls] == ["POST"]
            assert "registered already for" in capsys.readouterr().err
        assert [c[:2] for c in provider.calls] == [("POST", "/api/hooks"),
                                                   ("DELETE", "/api/hooks/hook-1")]
        provider.calls.clear()
        with receiver(provider, MANIFEST, "--keep-registration"):
            pass
        public = "https://abc.tunnel.test/in"
        with receiver(provider, MANIFEST, "--public-url", public) as (client, service):
            # another URL: the old registration is removed, the new one made
            assert [c[:2] for c in provider.calls] == [
                ("POST", "/api/hooks"), ("DELETE", "/api/hooks/hook-2"), ("POST", "/api/hooks")]
            assert provider.calls[2][2] == {"url": public, "event": "signup"}
            assert service.paths == ["/webhooks/signups-in", "/in"]
            assert client.post("/in", json=ADA, headers=SIGNED).json() == \
                {"delivered": 1, "failed": 0}  # the public URL's path is answered too
        capsys.readouterr()
        with receiver(provider, MANIFEST, "--no-register"):
            pass
        assert len(provider.calls) == 4  # --no-register: neither create nor delete
        err = capsys.readouterr().err
        assert "on stop: registration left as it is (--no-register: delete not run)" in err
        assert err.count("registration left as it is") == 2  # on start and on stop


def test_verification_answers_challenges_rejects_and_lets_signed_payloads_through(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    with FakeProvider() as provider, receiver(provider) as (client, _):
        challenge = client.get("/webhooks/signups-in", params={"challenge": "c-42"})
        assert challenge.status_code == 200 and challenge.text == "c-42"
        assert challenge.headers["x-challenge"] == "answered"
        assert challenge.headers["content-type"].startswith("text/plain")
        unsigned = client.post("/webhooks/signups-in", json=ADA)
        assert unsigned.status_code == 401 and unsigned.json() == {"error": "bad signature"}
        signed = client.post("/webhooks/signups-in", json=ADA, headers=SIGNED)
        assert signed.status_code == 200 and signed.json() == {"delivered": 1, "failed": 0}
    assert [(e.number, e.method, e.outcome, e.status) for e in journal()] == [
        (1, "GET", "answered", 200), (2, "POST", "answered", 401), (3, "POST", "delivered", 200)]
    assert dead_letters() == []
    err = capsys.readouterr().err
    assert "webhook 2: POST answered by verification: replied 401 without processing the " \
        "payload -> 401" in err
    assert "webhook 3: POST delivered 1 -> 200" in err
    [ada] = contacts(capsys)  # only the signed payload reached the sandbox
    assert (ada["email"], ada["firstName"], ada["tags"]) == ("ada@example.com", "Ada",
                                                             ["signup"])


@pytest.mark.usefixtures("state_backend")
def test_payloads_go_through_the_pipeline_and_failures_become_dead_letters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed(SETUP)
    dead_file = tmp_path / "dead.jsonl"
    with FakeProvider() as provider, \
            receiver(provider, MANIFEST, "--dead-letter", str(dead_file)) as (client, _):
        hook = "/webhooks/signups-in"
        bad = client.post(hook, content=b'{"contact": ', headers={
            **SIGNED, "Content-Type": "application/json"})
        assert bad.status_code == 400 and "is not JSON" in bad.json()["error"]
        form = client.post(hook, content=b"email=bo%40example.com&name=Bo", headers={
            **SIGNED, "Content-Type": "application/x-www-form-urlencoded"})
        assert form.json() == {"delivered": 1, "failed": 0}
        no_email = client.post(hook, json={"contact": {"name": "Nobody"}}, headers=SIGNED)
        assert no_email.status_code == 200 and no_email.json() == {"delivered": 0, "failed": 1}
        monkeypatch.setattr(app_module, "MAX_BODY", 100)
        big = client.post(hook, json={"contact": {"email": "x" * 200}}, headers=SIGNED)
        assert big.status_code == 413
        other = client.post("/webhooks/nope", json=ADA)
        assert other.status_code == 404 and "/webhooks/signups-in" in other.json()["error"]
        assert client.put(hook, json=ADA, headers=SIGNED).json()["delivered"] == 1
    dead = [(d.record_no, d.stage, d.code) for d in dead_letters()]
    assert dead == [(1, "read", "record-not-json"), (3, "transform", "no-email"),
                    (4, "read", "webhook-too-large")]
    in_file = [json.loads(line) for line in dead_file.read_text().splitlines()]
    assert [(d["record"], d["code"]) for d in in_file] == [(n, c) for n, _, c in dead]
    assert in_file[0]["input"] == '{"contact": '
    assert in_file[1]["input"] == {"contact": {"name": "Nobody"}}
    assert [(e.outcome, e.status, e.delivered, e.failed) for e in journal()] == [
        ("failed", 400, 0, 1), ("delivered", 200, 1, 0), ("failed", 200, 0, 1),
        ("failed", 413, 0, 1), ("delivered", 200, 1, 0)]
    err = capsys.readouterr().err
    assert "webhook 3: POST failed (1 dead letter): transform no-email:" in err
    assert sorted(c["email"] for c in contacts(capsys)) == ["ada@example.com",
                                                            "bo@example.com"]


@pytest.mark.usefixtures("state_backend")
def test_application_scope_routes_by_account_and_resource(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(APP_SETUP)
    with FakeProvider() as provider:
        with receiver(provider, APPLICATION) as (client, _):
            hook = "/webhooks/events-in"
            other_account = client.post(hook, json={"account": "acc-2", "event": "signup",
                                                    **ADA})
            assert other_account.status_code == 202
            assert other_account.json() == {
                "ignored": "account_id \"acc-2\" is not this connection's (\"acc-1\")"}
            other_event = client.post(hook, json={"account": "acc-1", "event": "left", **ADA})
            assert other_event.status_code == 202 and "resource_id" in other_event.text
            ours = client.post(hook, json={"account": "acc-1", "event": "signup", **ADA})
            assert ours.json() == {"delivered": 1, "failed": 0}
            assert client.get(hook).status_code == 405  # no verification: GET is no webhook
        assert saved("application") == {"app_hook_id": "hook-1"}
        # no delete command: the registration stays (with the provider and in the state)
        assert [c[0] for c in provider.calls] == ["POST"]
        assert registration("events-in", "events").url == \
            "http://127.0.0.1:8787/webhooks/events-in"
        err = capsys.readouterr().err
        assert "on stop: registration kept at the provider: the intake has no delete" in err
        assert "events-in: registration kept at the provider: the intake has no delete " \
            "(http://127.0.0.1:8787/webhooks/events-in)" in err
        with receiver(provider, APPLICATION):
            assert [c[0] for c in provider.calls] == ["POST"]  # registered already
    assert [(e.outcome, e.status) for e in journal()] == [
        ("ignored", 202), ("ignored", 202), ("delivered", 200)]
    assert dead_letters() == []
    assert [c["email"] for c in contacts(capsys)] == ["ada@example.com"]


def test_failing_verification_and_routing_commands_dead_letter_the_payload(
        tmp_path: Path) -> None:
    seed(SETUP)
    seed(APP_SETUP)
    text = Path(MANIFEST).read_text()
    start = text.index("    verification: !switch")
    end = text.index("workflows:")
    not_respond = tmp_path / "not-respond.yaml"
    not_respond.write_text(text[:start] + "    verification: !jq '{ok: true}'\n" + text[end:])
    routing = tmp_path / "routing.yaml"
    routing.write_text(Path(APPLICATION).read_text().replace(
        "account_id: !jq .account", "account_id: !jq '.account | error(\"no account\")'"))
    with FakeProvider() as provider:
        with receiver(provider, str(not_respond)) as (client, _):
            reply = client.post("/webhooks/signups-in", json=ADA)
            assert reply.status_code == 500
            assert reply.json() == {"error": "verification failed (verification-output)"}
        with receiver(provider, str(routing)) as (client, _):
            reply = client.post("/webhooks/events-in", json={"account": "acc-1", **ADA})
            assert reply.status_code == 200 and reply.json() == {"delivered": 0, "failed": 1}
    dead = dead_letters()
    assert [(d.workflow, d.stage, d.code) for d in dead] == [
        ("signups-in", "verification", "verification-output"),
        ("events-in", "route", "jq-runtime")]
    assert "not-respond.yaml:" in dead[0].message and dead[0].record == ADA
    assert dead[0].pointer == "/data_intake/0/verification"


def test_routing_without_a_saved_connection_says_so(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    seed(Setup(**{**APP_SETUP.as_json(), "connection": None}))
    with FakeProvider() as provider, receiver(provider, APPLICATION) as (client, _):
        # only the resource is compared
        reply = client.post("/webhooks/events-in", json={"account": "acc-9", "event": "signup",
                                                         **ADA})
        assert reply.json() == {"delivered": 1, "failed": 0}
    assert "no saved connection's account_id to compare" in capsys.readouterr().err


def test_a_failing_create_is_a_located_error_and_nothing_is_served(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(Setup(**{**SETUP.as_json(), "credentials": {"token": "wrong"}}))
    with FakeProvider() as provider:
        with pytest.raises(Reported), receiver(provider):
            pytest.fail("served")
        assert main(["serve", MANIFEST, "--port", "0",
                     "--remap", f"https://hooks.example.test={provider.url}"]) == 1
    err = capsys.readouterr().err
    assert "error[http-status]" in err and "webhook.yaml:" in err
    assert "create command failed; nothing is registered" in err
    assert registration() is None


def test_workflows_without_a_webhook_intake_are_refused(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    polling = str(HERE.parent / "pipeline/polling.yaml")
    assert main(["serve", polling, "--port", "0"]) == 2
    assert "not a webhook intake; run it with `manifest-runtime poll`" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", MANIFEST, "--port", "70000"])
    assert exit_info.value.code == 2
    assert "a port is 0 to 65535" in capsys.readouterr().err


def _lines(stream: Any) -> tuple[queue.Queue[str], threading.Thread]:
    """The stream's lines as they come (read by a thread till its end)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return lines, thread


def _wait_for_url(proc: subprocess.Popen[str], lines: queue.Queue[str], seen: list[str]
                  ) -> str:
    """The URL of serve's start-up line (stderr lines read on the way go to `seen`)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            assert proc.poll() is None, "".join(seen)
            continue
        seen.append(line)
        if "receiving webhooks at " in line:
            url = line.split("receiving webhooks at ", 1)[1].split(";", 1)[0]
            assert url.startswith("http://127.0.0.1:") and url.endswith("/webhooks/signups-in")
            return url
    raise AssertionError("no start-up line: " + "".join(seen))


def test_a_real_server_receives_webhooks_and_deregisters_on_sigterm(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    with FakeProvider() as provider:
        argv = [sys.executable, "-m", "manifest_runtime", "serve", MANIFEST, "--port", "0",
                "--remap", f"https://hooks.example.test={provider.url}"]
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            err_lines, pump = _lines(proc.stderr)
            seen: list[str] = []
            try:
                url = _wait_for_url(proc, err_lines, seen)
                assert provider.calls == [("POST", "/api/hooks",
                                           {"url": url, "event": "signup"})]
                reply = httpx.post(url, json=ADA, headers=SIGNED, timeout=10)
                assert reply.status_code == 200
                assert reply.json() == {"delivered": 1, "failed": 0}
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)  # stdout is short: no pipe fills up meanwhile
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
        assert "Traceback" not in err
        assert "webhook 1: POST delivered 1 -> 200" in err
        assert f"removed the registration for {url} (delete ran)" in err
        assert "stopping: finishing the webhooks in hand; then removing the registration " \
            "(delete)" in err
        assert "received 1 webhook(s): delivered 1, failed 0" in out
        assert provider.calls[-1] == ("DELETE", "/api/hooks/hook-1", None)
    assert registration() is None
    assert [c["email"] for c in contacts(capsys)] == ["ada@example.com"]


def test_guards_deep_bodies_busy_state_and_a_second_receiver(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A body nesting deeper than 100 levels is a 400 and a read-stage dead letter; a state
    file that fails answers 503 with Retry-After (the sender retries); a second `serve` for
    the same workflow is refused while the first one runs."""
    import socket
    import sqlite3

    from manifest_runtime.errors import UsageError
    from manifest_runtime.intake.journal import WebhookJournal

    seed(SETUP)
    with FakeProvider() as provider, receiver(provider) as (client, _):
        deep = b"[" * 150 + b"]" * 150
        answer = client.post("/webhooks/signups-in", content=deep,
                             headers={**SIGNED, "Content-Type": "application/json"})
        assert answer.status_code == 400 and "deeper than 100 levels" in answer.json()["error"]
        assert [d.stage for d in dead_letters()] == ["read"]

        def locked(*args: Any, **kwargs: Any) -> int:
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(WebhookJournal, "arrived", locked)
        busy = client.post("/webhooks/signups-in", json=ADA, headers=SIGNED)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    here = socket.gethostname()
    with state() as s:
        webhooks = WebhookJournal(s.db, s.lock)
        assert webhooks.alive("w", f"{here}:{os.getppid()}")  # a live process
        assert webhooks.alive("w", f"{here}:{os.getpid()}")  # this one
        assert not webhooks.alive("w", f"{here}:999999999")
        assert not webhooks.alive("w", None)
    with state() as s:
        s.db.execute("INSERT OR REPLACE INTO webhook_registrations (workflow, intake, url, "
                     "registered_at, owner) VALUES (?, ?, ?, ?, ?)",
                     ("signups-in", "signup", "http://x/", "now", f"{here}:{os.getppid()}"))
        s.db.commit()
    with FakeProvider() as provider, pytest.raises(UsageError, match="another `serve`"), \
            receiver(provider):
        pass
    with FakeProvider() as provider, pytest.raises(UsageError, match="is not forgotten"), \
            receiver(provider, MANIFEST, "--forget-registration"):
        pass


def test_a_payload_is_journaled_without_its_secrets_and_retried_after_a_state_failure(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Journaled before it is processed: when processing meets a failing state (503), the
    journal holds the payload with this webhook's secrets masked (never the secret itself);
    the next tick processes it as it came (kept in memory), once; the sender's retry is a
    duplicate."""
    import sqlite3

    from manifest_runtime.pipeline.runner import Pipeline

    seed(SETUP)
    secret = "pw-4242-SECRET"
    body = {"contact": {"email": "eve@example.com", "name": "Eve"}, "password": secret}
    real = Pipeline.process
    failed: list[int] = []

    def once_failing(self: Pipeline, record: Any, http: Any = None) -> Any:
        if not failed:
            failed.append(record.number)
            raise sqlite3.OperationalError("database is locked")
        return real(self, record, http)

    monkeypatch.setattr(Pipeline, "process", once_failing)
    with FakeProvider() as provider, receiver(provider) as (client, service):
        busy = client.post("/webhooks/signups-in", json=body, headers=SIGNED)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
        with state() as s:
            payload, masked, outcome = s.db.execute(
                "SELECT payload, masked, outcome FROM webhook_journal WHERE id = ?",
                (failed[0],)).fetchone()
        assert (outcome, masked) == ("received", 1)
        assert secret not in payload and '"password":"***"' in payload
        again = client.post("/webhooks/signups-in", json=body, headers=SIGNED)
        assert again.status_code == 200 and "duplicate" in again.json()
        service.receiver.call(service.receiver.recover).result()
    assert [(e.number, e.outcome) for e in journal()] == [(failed[0], "delivered"),
                                                          (failed[0] + 1, "duplicate")]
    assert f"webhook {failed[0]}: POST (retried after a state failure) delivered 1" \
        in capsys.readouterr().err
    assert [c["email"] for c in contacts(capsys)] == ["eve@example.com"]
