"""Registrations journaled as intents (issue 10.4): a `create` whose outcome is unknown is never
followed by a second registration; the same payload twice (a doubled registration) is
processed once. Through the command line (`main`, and `serving` on parsed arguments) against
the loopback fake provider."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from fake_provider import FakeProvider
from test_serve import (
    ADA,
    MANIFEST,
    SETUP,
    SIGNED,
    URL,
    contacts,
    journal,
    receiver,
    registration,
    seed,
    state,
)

from manifest_runtime.cli import main
from manifest_runtime.intake.journal import WebhookJournal


def remap(provider: FakeProvider) -> list[str]:
    return ["--remap", f"https://hooks.example.test={provider.url}"]


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
        number = webhooks.received("w", "i", "POST", "abc")
        webhooks.finish(number, "delivered", 200, delivered=1)
        assert webhooks.seen("w", "abc", 60, number + 1) is not None
