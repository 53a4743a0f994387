"""`manifest-runtime poll`: the polling lifecycle over real loopback HTTP, polling_state kept
in the state file, results through the pipeline into the sandbox, exit rules, errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from loopback import Loopback, QuietHandler

from manifest_runtime.cli import main
from manifest_runtime.state import Setup, StateFile

MANIFEST = str(Path(__file__).parent / "polling.yaml")
SETUP = Setup("leads-in", custom_data={}, mapping={"email": "email", "name": "firstName"},
              selection={"resource_id": "all", "display": "All leads"},
              schedule={"import_option": "recurring", "frequency": 1800},
              credentials={"token": "key-SECRET"})
LEADS = [{"email": f"lead{i}@example.com", "name": f"Lead {i}"} for i in range(1, 6)]


@dataclass
class LeadsApi(Loopback):
    """GET /api/leads?page=N answers pages[N-1] and the next page number (or null)."""

    pages: list[list[dict[str, Any]]]
    seen: list[str]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                api.seen.append(self.path)
                page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
                if self.headers.get("X-Api-Key") != "key-SECRET":
                    return self.reply(401, {"error": "key"})
                self.reply(200, {"leads": api.pages[page - 1] if page <= len(api.pages)
                                 else [], "next": page + 1 if page < len(api.pages) else None})

        return Handler


@contextmanager
def leads_api(pages: list[list[dict[str, Any]]], seen: list[str]) -> Iterator[str]:
    with LeadsApi(pages, seen) as api:
        yield api.url


def poll(url: str, *options: str) -> int:
    return main(["poll", MANIFEST, "--once", "--remap", f"https://leads.example.com={url}",
                 *options])


def stored_state() -> Any:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        return s.load_polling_state("leads-in")


def contacts(capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["sandbox", "contacts", "--format", "json"]) == 0
    return [c["email"] for c in json.loads(capsys.readouterr().out)]


def seed() -> None:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.save_setup(SETUP)


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_a_poll_cycle_pages_through_and_keeps_its_state(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    seed()
    seen: list[str] = []
    with leads_api([LEADS[:2], LEADS[2:4], LEADS[4:]], seen) as url:
        assert poll(url) == 0
        out = capsys.readouterr().out
        assert "3 request(s), read 5, delivered 5, failed 0; stopped: iterate is false" in out
        assert seen == ["/api/leads?page=1", "/api/leads?page=2", "/api/leads?page=3"]
        # initial_setup ran once, pre_poll counted the cycle, the last request reset the page
        assert stored_state() == (True, {"page": 1, "cycles": 1})
        assert poll(url) == 0  # the next cycle: no initial_setup, cycles counts on
        assert stored_state() == (True, {"page": 1, "cycles": 2})
    assert contacts(capsys) == [lead["email"] for lead in LEADS]


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_a_server_ignoring_the_page_is_not_polled_forever(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    seed()
    seen: list[str] = []
    with leads_api([LEADS[:2]] * 200, seen) as url:  # every page answers the same leads
        assert poll(url) == 0
    assert len(seen) == 2  # the repeat is seen at once; its results are not fed again
    assert "stopped: the same results as the previous request" in capsys.readouterr().out


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_a_failing_request_is_a_located_error_and_keeps_the_state(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed()
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.save_setup(Setup(**{**SETUP.as_json(), "credentials": {"token": "wrong"}}))
    with leads_api([LEADS[:2]], []) as url:
        assert poll(url) == 1
    err = capsys.readouterr().err
    assert "error[http-status]" in err and "polling.yaml:" in err and "wrong" not in err
    assert stored_state() == (True, {"page": 1, "cycles": 1})  # pre_poll's, not the request's


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_reset_runs_initial_setup_again_and_webhook_workflows_are_refused(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed()
    with leads_api([LEADS[:1]], []) as url:
        assert poll(url) == 0
        assert poll(url, "--reset") == 0
    assert stored_state() == (True, {"page": 1, "cycles": 1})
    root = Path(__file__).resolve().parents[2]
    capsys.readouterr()
    assert main(["poll", str(root / "examples/activetrail-contacts/manifest.yaml")]) == 2
    assert "no polling data_intake" in capsys.readouterr().err


def test_polling_until_stopped(tmp_path: Path) -> None:
    """Without --once it polls every --every seconds; SIGINT stops it cleanly (exit 130)."""
    import signal
    import subprocess
    import sys

    seed()
    with leads_api([LEADS[:2]], []) as url:
        proc = subprocess.Popen(
            [sys.executable, "-m", "manifest_runtime", "poll", MANIFEST, "--every", "1",
             "--remap", f"https://leads.example.com={url}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]  # two cycles
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert all("poll: 1 request(s), read 2" in line for line in lines), lines
    assert proc.returncode == 130, err
    assert "stopped; polling_state is stored" in err and "Traceback" not in err


def variant(tmp_path: Path, **lifecycle: Any) -> str:
    """polling.yaml with some lifecycle commands replaced (None removes one)."""
    from manifest_runtime.source import load_file

    data = load_file(MANIFEST).data
    intake = data["data_intake"][0]
    for name, command in lifecycle.items():
        if command is None:
            intake.pop(name, None)
        else:
            intake[name] = command
    file = tmp_path / "variant.json"
    file.write_text(json.dumps(data))
    return str(file)


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_lifecycle_rules_from_the_reference(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """initial_setup runs once even when nothing stores a polling_state; post_poll runs after
    a failed request; the identical-results rule still stores that request's state."""
    seed()
    manifest = variant(
        tmp_path,
        initial_setup={"!http": {"method": "GET", "path": "/init"}},
        pre_poll=None,
        request={"!pipe": [{"!http": {"method": "GET", "path": "/leads?page=1"}},
                           {"!jq": "{results: .body.leads, iterate: true, "
                                   "polling_state: {asked: 1}}"}]},
        post_poll={"!http": {"method": "GET", "path": "/post"}})
    seen: list[str] = []
    with leads_api([LEADS[:2]], seen) as url:
        for _ in range(2):
            assert main(["poll", manifest, "--once",
                         "--remap", f"https://leads.example.com={url}"]) == 0
    assert seen.count("/api/init") == 1  # once, not per poll
    assert seen.count("/api/post") == 2
    assert stored_state() == (True, {"asked": 1})  # saved although the results repeated
    assert "stopped: the same results as the previous request" in capsys.readouterr().out


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_post_poll_runs_after_a_failed_request(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    seed()
    manifest = variant(tmp_path, pre_poll=None, request={"!error": "the API is down"},
                       post_poll={"!http": {"method": "GET", "path": "/post"}})
    seen: list[str] = []
    with leads_api([LEADS[:1]], seen) as url:
        assert main(["poll", manifest, "--once",
                     "--remap", f"https://leads.example.com={url}"]) == 1
    assert seen == ["/api/post"]
    assert "error[error-command]: the API is down" in capsys.readouterr().err


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_a_poll_waits_for_no_one_with_no_wait_while_another_process_writes(
        capsys: pytest.CaptureFixture[str]) -> None:
    """One writer per workflow: a live process holding it (here the test's parent) makes
    `poll --no-wait` exit 1 naming it, and nothing is requested."""
    import socket

    from manifest_runtime.state import process_started

    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.save_setup(SETUP)
        assert s.claim("leads-in", "poll") is None
        s.db.execute("UPDATE workflow_owners SET owner = ?, started = ?",
                     (f"{socket.gethostname()}:{os.getppid()}",
                      process_started(os.getppid())))
        s.db.commit()
    seen: list[str] = []
    with leads_api([LEADS], seen) as url:
        assert poll(url, "--no-wait") == 1
    assert seen == []
    err = capsys.readouterr().err
    assert f"workflow 'leads-in' is being written by `poll` ({socket.gethostname()}:" \
        f"{os.getppid()}, since " in err


def test_a_page_into_the_sandbox_is_one_transaction_with_its_dead_letters(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Contacts of a page, their dead letters and the polling_state commit together."""
    seed()
    page = [LEADS[0], {"name": "no email"}, LEADS[1]]
    with leads_api([page, LEADS[2:3]], []) as url:
        assert poll(url) == 1  # a result failed
    out = capsys.readouterr().out
    assert "2 request(s), read 4, delivered 3, failed 1" in out
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        from manifest_runtime.pipeline.journal import Journal

        dead = Journal(s.db, s.lock).dead_letters("leads-in")
        assert [(d.record_no, d.code) for d in dead] == [(2, "no-email")]
        assert s.load_polling_state("leads-in") == (True, {"page": 1, "cycles": 1})
    assert contacts(capsys) == [lead["email"] for lead in LEADS[:3]]


def test_a_write_rolled_back_inside_a_page_runs_the_page_again_record_by_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A deal update of a missing deal is refused inside the account's transaction: the
    page's batch is spoiled, so the page runs again one record at a time; each record ends
    once (delivered or dead-lettered), nothing of the spoiled batch is kept twice."""
    text = Path(MANIFEST).read_text(encoding="utf-8").replace(
        "target: !resource ActiveCampaignContact",
        "target: !pipe [!jq 'del(.email)', !resource {action: ActiveCampaignDeal.sync}]")
    manifest = tmp_path / "deals.yaml"
    manifest.write_text(text, encoding="utf-8")
    keys = ("email", "id", "title", "value", "currency", "group", "contact")
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.save_setup(Setup(**{**SETUP.as_json(), "mapping": {k: k for k in keys}}))
    deal = {"email": "a@example.com", "title": "Deal", "value": 100, "currency": "usd",
            "group": "1", "contact": "1"}
    page = [deal, {"email": "b@example.com", "id": 999, "title": "missing"},
            {**deal, "title": "Deal 2"}]
    with leads_api([page], []) as url:
        assert main(["poll", str(manifest), "--once", "--remap",
                     f"https://leads.example.com={url}"]) == 1
    assert "1 request(s), read 3, delivered 2, failed 1" in capsys.readouterr().out
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        from manifest_runtime.pipeline.journal import Journal

        assert sorted(d["title"] for d in s.sandbox().deals.values()) == ["Deal", "Deal 2"]
        dead = Journal(s.db, s.lock).dead_letters("leads-in")
        assert [(d.record_no, d.code) for d in dead] == [(2, "deal-not-found")]
        assert s.load_polling_state("leads-in") == (True, {"page": 1, "cycles": 1})
