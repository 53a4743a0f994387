"""Registrations journaled as intents (issue 10.4): a `create` whose outcome is unknown is never
followed by a second registration; the same payload twice (a doubled registration) is
processed once. Through the command line (`main`, and `serving` on parsed arguments) against
the loopback fake provider."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from fake_provider import TOKEN, FakeProvider
from test_serve import (
    ADA,
    APP_SETUP,
    APPLICATION,
    MANIFEST,
    SETUP,
    SIGNED,
    URL,
    contacts,
    journal,
    receiver,
    registration,
    saved,
    seed,
    state,
)

from manifest_runtime.cli import main
from manifest_runtime.intake.journal import WebhookJournal


def remap(provider: FakeProvider) -> list[str]:
    return ["--remap", f"https://hooks.example.test={provider.url}"]


@pytest.mark.usefixtures("state_backend")
def test_a_timed_out_create_is_unknown_and_never_registered_twice(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    with FakeProvider(slow=1.5) as provider:
        # the provider makes the hook, but answers after the client gave up
        code = main(["serve", MANIFEST, "--port", "0", "--timeout", "0.3", *remap(provider)])
        assert code == 1
        err = capsys.readouterr().err
        assert "error[http-timeout]" in err
        assert "create command failed; its outcome is unknown" in err
        assert "Traceback" not in err
        assert list(provider.hooks) == ["hook-1"]  # the provider has it; we have no id
        known = registration()
        assert known.status == "unknown" and "http-timeout" in (known.detail or "")
        url = known.url

        provider.slow = 0.0
        with receiver(provider, MANIFEST, "--public-url", url) as (client, service):
            err = capsys.readouterr().err
            assert "warning: the outcome of registering" in err
            assert f"may have a webhook for {url}" in err
            assert "https://hooks.example.test/api" in err  # which provider to check
            assert "serve --forget-registration" in err
            assert "create not run: the registration for" in err
            assert [c[0] for c in provider.calls] == ["POST"]  # no second create
            assert "on stop: registration kept: its outcome is unknown" in err
            assert service.on_stop.startswith("registration kept")
            # both hooks (or a provider retry) deliver the same event: processed once
            first = client.post(service.paths[0], json=ADA, headers=SIGNED)
            again = client.post(service.paths[0], json=ADA, headers={
                **SIGNED, "X-Delivery": "2"})
            assert first.json() == {"delivered": 1, "failed": 0}
            assert again.status_code == 200
            assert "the same payload as webhook 1" in again.json()["duplicate"]
        assert [c[0] for c in provider.calls] == ["POST"]  # no delete either
        assert registration().status == "unknown"
        err = capsys.readouterr().err
        assert "webhook 2: POST duplicate: same payload as webhook 1 -> 200" in err
        assert [(e.outcome, e.status) for e in journal()] == [("delivered", 200),
                                                              ("duplicate", 200)]
        assert [c["email"] for c in contacts(capsys)] == ["ada@example.com"]

        # checked at the provider: forget it, and serve registers anew
        with receiver(provider, MANIFEST, "--forget-registration"):
            err = capsys.readouterr().err
            assert f"forgot the unknown registration for {url}" in err
            assert [c[0] for c in provider.calls] == ["POST", "POST"]
            assert registration().status == "registered"
        assert [c[:2] for c in provider.calls][-1] == ("DELETE", "/api/hooks/hook-2")
    assert registration() is None


@pytest.mark.usefixtures("state_backend")
def test_a_create_left_creating_by_a_dead_process_is_unknown(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    with state() as s:
        WebhookJournal(s.db, s.lock)  # the tables
        s.db.execute("INSERT INTO webhook_registrations (workflow, intake, url, registered_at, "
                     "owner, status) VALUES ('signups-in', 'signup', ?, 'then', ?, 'creating')",
                     (URL, f"{socket.gethostname()}:999999999"))
        s.db.commit()
    with FakeProvider() as provider:
        with receiver(provider):
            assert provider.calls == []
        err = capsys.readouterr().err
        assert "(the process registering it stopped during create)" in err
        assert "registration kept: its outcome is unknown" in err
        assert registration().status == "unknown"


@pytest.mark.usefixtures("state_backend")
def test_a_create_failing_after_the_provider_accepted_it_is_unknown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The POST made the hook, then a later step of create failed: the hook id is lost."""
    seed(SETUP)
    broken = tmp_path / "broken.yaml"
    broken.write_text(Path(MANIFEST).read_text().replace(
        '- !jq "{webhook_id: .body.id}"', '- !jq "error(\\"no id\\")"'))
    with FakeProvider() as provider:
        assert main(["serve", str(broken), "--port", "0", *remap(provider)]) == 1
        assert list(provider.hooks) == ["hook-1"]
    assert registration().status == "unknown"
    assert "its outcome is unknown" in capsys.readouterr().err


def test_refused_or_unreachable_creates_register_nothing(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed when the block ends: nothing listens there
    assert main(["serve", MANIFEST, "--port", "0", "--max-attempts", "1",
                 "--remap", f"https://hooks.example.test=http://127.0.0.1:{port}"]) == 1
    assert "create command failed; nothing is registered" in capsys.readouterr().err
    assert registration() is None


@pytest.mark.parametrize("window, second", [("600", "duplicate"), ("0", "delivered")])
@pytest.mark.usefixtures("state_backend")
def test_the_dedupe_window_is_configurable(window: str, second: str) -> None:
    seed(SETUP)
    with FakeProvider() as provider, \
            receiver(provider, MANIFEST, "--dedupe-window", window) as (client, _):
        hook = "/webhooks/signups-in"
        for _ in range(2):
            assert client.post(hook, json=ADA, headers=SIGNED).status_code == 200
        # a rejected request does not count: the same body signed is processed
        other = {"contact": {"email": "bo@example.com"}}
        assert client.post(hook, json=other).status_code == 401
        assert client.post(hook, json=other, headers=SIGNED).json()["delivered"] == 1
    assert [e.outcome for e in journal()] == ["delivered", second, "answered", "delivered"]


def test_an_earlier_state_file_gains_the_new_columns() -> None:
    path = os.environ["MANIFEST_RUNTIME_STATE"]
    import sqlite3

    with state():
        pass
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE webhook_journal (id INTEGER PRIMARY KEY AUTOINCREMENT, workflow TEXT NOT
            NULL, intake TEXT NOT NULL, method TEXT NOT NULL, received_at TEXT NOT NULL,
            outcome TEXT NOT NULL, status INTEGER, delivered INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0, detail TEXT);
        CREATE TABLE webhook_registrations (workflow TEXT NOT NULL, intake TEXT NOT NULL,
            url TEXT NOT NULL, registered_at TEXT NOT NULL, owner TEXT,
            PRIMARY KEY (workflow, intake));
        INSERT INTO webhook_registrations VALUES ('w', 'i', 'http://x/', 'then', NULL);
    """)
    db.close()
    with state() as s:
        webhooks = WebhookJournal(s.db, s.lock)
        [old] = webhooks.registrations()
        assert (old.url, old.status) == ("http://x/", "registered")
        number, first = webhooks.arrived("w", "i", "POST", "abc", {"a": 1}, False, 60)
        assert first is None
        webhooks.finish(number, "delivered", 200, delivered=1)
        again, first = webhooks.arrived("w", "i", "POST", "abc", {"a": 1}, False, 60)
        assert first is not None and first.number == number and again == number + 1


UPDATE = '''    update: !http
      method: PATCH
      path: "/hooks/${data.workflow.webhook_id}"
      body: {url: "${webhook.url}", tag: "${custom_data.tag.value | default:none}"}
'''


def answers(tmp_path: Path, tag: str) -> str:
    path = tmp_path / f"answers-{tag}.yaml"
    path.write_text(f"credentials: {{token: {TOKEN}}}\ncustom_data: {{tag: {tag}}}\n"
                    "mapping: {email: email, name: firstName}\n")
    return str(path)


def setup(manifest: str, provider: FakeProvider, tmp_path: Path, tag: str) -> int:
    return main(["setup", manifest, "--answers", answers(tmp_path, tag), *remap(provider)])


@pytest.mark.usefixtures("state_backend")
def test_setup_on_a_registered_webhook_runs_update(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "update.yaml"
    text = Path(MANIFEST).read_text()
    manifest.write_text(text.replace("    delete: !http", UPDATE + "    delete: !http"))
    with FakeProvider() as provider:
        assert setup(str(manifest), provider, tmp_path, "first") == 0
        assert [c[0] for c in provider.calls] == ["GET"]  # nothing registered: no update
        with receiver(provider, str(manifest), "--keep-registration"):
            pass
        provider.calls.clear()
        capsys.readouterr()
        assert setup(str(manifest), provider, tmp_path, "vip") == 0
        assert provider.calls[1:] == [("PATCH", "/api/hooks/hook-1", {"url": URL, "tag": "vip"})]
        assert provider.hooks["hook-1"]["tag"] == "vip"
        assert f"signups-in: updated the registration for {URL} (update ran)" in \
            capsys.readouterr().err
        assert registration().status == "registered"


def test_setup_without_update_re_registers_with_delete_and_create(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeProvider() as provider:
        assert setup(MANIFEST, provider, tmp_path, "first") == 0
        with receiver(provider, MANIFEST, "--keep-registration"):
            pass
        provider.calls.clear()
        capsys.readouterr()
        assert setup(MANIFEST, provider, tmp_path, "vip") == 0
        assert [c[:2] for c in provider.calls[1:]] == [("DELETE", "/api/hooks/hook-1"),
                                                       ("POST", "/api/hooks")]
        err = capsys.readouterr().err
        assert "warning: webhook intake 'signup' has no update command: re-registering" in err
        assert f"re-registered {URL} (delete, then create ran)" in err
        assert list(provider.hooks) == ["hook-2"] and saved() == {"webhook_id": "hook-2"}
        assert registration().status == "registered"


def test_setup_leaves_alone_what_it_cannot_update(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeProvider() as provider:
        # an intake with neither update nor delete: a warning, nothing sent
        seed(APP_SETUP)
        with receiver(provider, APPLICATION):
            pass
        provider.calls.clear()
        app_answers = tmp_path / "app.yaml"
        app_answers.write_text(f"credentials: {{token: {TOKEN}}}\ncustom_data: {{event: left}}"
                               "\nmapping: {email: email, name: firstName}\n")
        capsys.readouterr()
        assert main(["setup", APPLICATION, "--answers", str(app_answers),
                     *remap(provider)]) == 0
        assert [c[0] for c in provider.calls] == ["GET"]
        assert "keeps the choices it was made with: the intake has neither update nor " \
            "delete" in capsys.readouterr().err
        # an unknown registration: update is not run, the warning says what to check
        with state() as s:
            WebhookJournal(s.db, s.lock).registered("signups-in", "signup", URL, "unknown",
                                                    "http-timeout: ...")
        provider.calls.clear()
        assert setup(MANIFEST, provider, tmp_path, "vip") == 0
        assert [c[0] for c in provider.calls] == ["GET"]
        err = capsys.readouterr().err
        assert "warning: update not run: the outcome of registering" in err
        assert "serve --forget-registration" in err


def test_a_failing_update_is_a_located_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "update.yaml"
    text = Path(MANIFEST).read_text()
    manifest.write_text(text.replace("    delete: !http", UPDATE.replace(
        "/hooks/${data.workflow.webhook_id}", "/hooks/none") + "    delete: !http"))
    with FakeProvider() as provider:
        assert setup(str(manifest), provider, tmp_path, "first") == 0
        with receiver(provider, str(manifest), "--keep-registration"):
            pass
        capsys.readouterr()
        assert setup(str(manifest), provider, tmp_path, "vip") == 1
        err = capsys.readouterr().err
        assert "error[http-status]" in err and "update.yaml:" in err
        assert "the registration keeps its earlier choices" in err
        assert "Traceback" not in err


@pytest.mark.usefixtures("state_backend")
def test_an_unknown_registration_for_another_url_says_this_one_is_not_registered(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(SETUP)
    with state() as s:
        WebhookJournal(s.db, s.lock).registered("signups-in", "signup", "https://old.test/in",
                                                "unknown", "http-timeout: ...")
    with FakeProvider() as provider, receiver(provider):
        assert provider.calls == []
    err = capsys.readouterr().err
    assert f"warning: {URL} is not registered (create not run): if the unknown hook exists, " \
        "the provider sends to https://old.test/in" in err


@pytest.mark.usefixtures("state_backend")
def test_state_show_says_a_registration_is_unknown(capsys: pytest.CaptureFixture[str]
                                                   ) -> None:
    import json

    with state() as s:
        WebhookJournal(s.db, s.lock).registered("signups-in", "signup", URL, "unknown",
                                                "http-timeout: POST ... timed out")
    capsys.readouterr()
    assert main(["state", "show"]) == 0
    out = capsys.readouterr().out
    assert f"signups-in (signup): {URL} (unknown " in out
    assert ": http-timeout: POST ... timed out; check the provider, then `serve " \
        "--forget-registration`)" in out
    assert main(["state", "show", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["webhook_registrations"]
    assert (row["status"], row["detail"]) == ("unknown", "http-timeout: POST ... timed out")


def test_a_create_interrupted_by_ctrl_c_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    from manifest_runtime.intake import lifecycle

    seed(SETUP)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(lifecycle, "run_node", interrupted)
    with FakeProvider() as provider, pytest.raises(KeyboardInterrupt), receiver(provider):
        pass
    known = registration()
    assert (known.status, known.detail) == ("unknown", "create was interrupted")
