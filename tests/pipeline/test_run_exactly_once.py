"""Exactly-once `run` (issue 10): one writer per workflow, resume per record identity, records
whose outcome is unknown after a kill or a timeout are reported and never resent by a plain
rerun, the Idempotency-Key header, --trace with records in flight at once."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from deliver_api import DeliverApi

from manifest_runtime.cli import main
from manifest_runtime.pipeline.journal import Journal
from manifest_runtime.state import StateFile

HERE = Path(__file__).parent
MANIFEST = str(HERE / "deliver.yaml")


def contacts(path: Path, emails: list[str]) -> str:
    path.write_text("".join(json.dumps({"email": e}) + "\n" for e in emails), encoding="utf-8")
    return str(path)


def argv(api: DeliverApi, file: str, *options: str) -> list[str]:
    return [sys.executable, "-m", "manifest_runtime", "run", MANIFEST, "--workflow", "deliver",
            "--contacts", file, "--remap", f"https://deliver.example.com={api.url}", *options]


def run(api: DeliverApi, file: str, *options: str) -> int:
    return main(argv(api, file, *options)[3:])


def journal_states() -> Counter[str]:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        Journal(s.db, s.lock)
        return Counter(state for (state,) in s.db.execute("SELECT state FROM run_records"))


def dead_codes() -> list[str]:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        return [d.code for d in Journal(s.db, s.lock).dead_letters()]


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# ---------------------------------------------------------------------- one writer


def first_line(stream: Any, timeout: float = 60.0) -> str:
    """The next line a child process writes to `stream` (a pipe), waiting at most `timeout`."""
    import select

    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "the process wrote nothing"
    return str(stream.readline())


@pytest.mark.usefixtures("state_backend")
def test_two_concurrent_runs_deliver_each_record_once(tmp_path: Path) -> None:
    """The first run is held mid-way (its requests wait at the API) until the second has said
    that it waits: then both finish, each record delivered once."""
    emails = [f"u{i}@example.com" for i in range(60)]
    file = contacts(tmp_path / "c.jsonl", emails)
    with DeliverApi(gate=threading.Event()) as api:
        procs = [subprocess.Popen(argv(api, file, "--concurrency", "4"), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)]
        wait_for(lambda: api.arrived >= 4)  # the first is writing: the second waits
        procs.append(subprocess.Popen(argv(api, file, "--concurrency", "4"),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        said = first_line(procs[1].stderr)
        assert api.gate is not None
        api.gate.set()
        outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], (said, outs)
    assert sorted(r["email"] for r in api.received) == sorted(emails)  # once each
    assert said.startswith("waiting: workflow 'deliver' is being written by `run` "
                           f"({socket.gethostname()}:{procs[0].pid}, since"), said
    assert "read 60, delivered 0, failed 0; 60 of them skipped" in outs[1][0]


def test_no_wait_exits_1_naming_the_owner(tmp_path: Path) -> None:
    file = contacts(tmp_path / "c.jsonl", [f"u{i}@example.com" for i in range(30)])
    with DeliverApi(gate=threading.Event()) as api:
        first = subprocess.Popen(argv(api, file), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        wait_for(lambda: api.arrived >= 1)  # the first is writing, held at the API
        second = subprocess.run(argv(api, file, "--no-wait"), capture_output=True, text=True,
                                timeout=60, check=False)
        assert api.gate is not None
        api.gate.set()
        first.communicate(timeout=60)
    assert second.returncode == 1
    assert f"`run` ({socket.gethostname()}:{first.pid}, since " in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0 and len(api.received) == 30


@pytest.mark.usefixtures("state_backend")
def test_a_dead_owner_is_taken_over(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.db.execute("INSERT INTO workflow_owners (workflow, command, owner, since) VALUES "
                     "('deliver', 'run', ?, '2026-01-01')",
                     (f"{socket.gethostname()}:{gone.stdout.strip()}",))
        s.db.commit()
    file = contacts(tmp_path / "c.jsonl", ["a@x.test"])
    with DeliverApi() as api:
        assert run(api, file, "--no-wait") == 0
    assert len(api.received) == 1
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:  # released at the end
        assert s.db.execute("SELECT COUNT(*) FROM workflow_owners").fetchone()[0] == 0


# ---------------------------------------------------------------------- resume per record


@pytest.mark.usefixtures("state_backend")
def test_appended_and_fixed_lines_run_unchanged_ones_are_skipped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.jsonl"
    emails = [f"u{i}@x.test" for i in range(20)]
    lines = [json.dumps({"email": e}) for e in emails]
    lines[4] = '{"email": "u4@x.test",'  # broken
    path.write_text("\n".join(lines) + "\n")
    with DeliverApi() as api:
        assert run(api, str(path)) == 1
        assert "read 20, delivered 19, failed 1" in capsys.readouterr().out
        lines.append(json.dumps({"email": "new@x.test"}))  # appended
        lines[4] = json.dumps({"email": "u4@x.test"})  # fixed
        path.write_text("\n".join(lines) + "\n")
        assert run(api, str(path)) == 0
        assert "read 21, delivered 2, failed 0; 19 of them skipped" in capsys.readouterr().out
        path.write_text("\n".join(reversed(lines)) + "\n")  # moved lines keep their identity
        assert run(api, str(path)) == 0
        assert "read 21, delivered 0, failed 0; 21 of them skipped" in capsys.readouterr().out
        assert run(api, str(path), "--restart") == 0
        assert "read 21, delivered 21" in capsys.readouterr().out
    sent = Counter(r["email"] for r in api.received)
    assert sent == Counter({**{e: 2 for e in emails}, "new@x.test": 2})


@pytest.mark.usefixtures("state_backend")
def test_identical_lines_are_records_of_their_own(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.jsonl"
    same = json.dumps({"email": "same@x.test"})
    path.write_text(f"{same}\n{same}\n")
    with DeliverApi() as api:
        assert run(api, str(path)) == 0
        path.write_text(f"{same}\n {same}\n{same}\n")  # surrounding blanks do not matter
        assert run(api, str(path)) == 0
        assert "read 3, delivered 1, failed 0; 2 of them skipped" in capsys.readouterr().out
    assert len(api.received) == 3


# ---------------------------------------------------------------------- outcome unknown


@pytest.mark.usefixtures("state_backend")
def test_kill_9_at_concurrency_8_then_a_rerun_sends_no_record_twice(tmp_path: Path) -> None:
    """SIGKILL while 8 requests are in flight: the records marked `sending` are reported as
    outcome-unknown by the rerun and not sent again; the rest is delivered once."""
    emails = [f"u{i}@example.com" for i in range(80)]
    file = contacts(tmp_path / "c.jsonl", emails)
    with DeliverApi(delay=0.2) as api:
        proc = subprocess.Popen(argv(api, file, "--concurrency", "8"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: len(api.received) >= 20)
        proc.kill()
        proc.wait(timeout=30)
        time.sleep(0.4)  # the requests the killed run had sent arrive
        again = subprocess.run(argv(api, file, "--concurrency", "8"), capture_output=True,
                               text=True, timeout=60, check=False)
        time.sleep(0.3)
        twice = [e for e, n in Counter(r["email"] for r in api.received).items() if n > 1]
        assert twice == []
        unknown = journal_states()["unknown"]
        assert 1 <= unknown <= 8, again.stdout
        assert again.returncode == 1
        assert f", outcome unknown {unknown};" in again.stdout
        assert f"{unknown} record(s) may or may not have reached" in again.stdout
        assert dead_codes().count("outcome-unknown") == unknown
        got = {r["email"] for r in api.received}
        assert len(got) >= 80 - unknown
        # a plain rerun leaves them alone; --retry-unknown sends them on purpose
        third = subprocess.run(argv(api, file), capture_output=True, text=True, timeout=60,
                               check=False)
        assert third.returncode == 0 and f"{unknown} skipped record(s) have an unknown" \
            in third.stdout
        assert len(api.received) == len(got)
        fourth = subprocess.run(argv(api, file, "--retry-unknown"), capture_output=True,
                                text=True, timeout=60, check=False)
        assert fourth.returncode == 0, fourth.stdout
        assert f"read 80, delivered {unknown}" in fourth.stdout
    assert {r["email"] for r in api.received} == set(emails)
    assert journal_states() == Counter({"delivered": 80})
    assert "outcome-unknown" not in dead_codes()


@pytest.mark.usefixtures("state_backend")
def test_a_post_that_timed_out_is_unknown_not_failed(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    file = contacts(tmp_path / "c.jsonl", ["a@x.test"])
    with DeliverApi(delay=0.6) as api:
        assert run(api, file, "--timeout", "0.2") == 1
        out = capsys.readouterr().out
        assert "read 1, delivered 0, failed 0, outcome unknown 1" in out
        assert dead_codes() == ["outcome-unknown"]
        time.sleep(0.6)
        assert len(api.received) == 1  # the server did act
        assert run(api, file, "--retry-failed") == 0  # not a failure: not resent
        assert len(api.received) == 1
        api.delay = 0
        assert run(api, file, "--retry-unknown") == 0
    assert len(api.received) == 2 and dead_codes() == []


@pytest.mark.usefixtures("state_backend")
def test_idempotency_key_header_carries_the_record_identity(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"email": "a@x.test"}\n{"email": "a@x.test"}\n{"email": "b@x.test"}\n')
    with DeliverApi() as api:
        assert run(api, str(path), "--idempotency-key-header", "Idempotency-Key") == 0
        assert run(api, str(path), "--idempotency-key-header", "Idempotency-Key",
                   "--restart") == 0
    keys = [h["idempotency-key"] for h in api.headers]
    assert len(set(keys[:3])) == 3 and keys[3:] == keys[:3]  # stable across runs
    assert keys[0].endswith("-1") and keys[1].endswith("-2") and keys[0][:-2] == keys[1][:-2]
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        ids = {r for (r,) in s.db.execute("SELECT record_id FROM run_records")}
    assert ids == set(keys[:3])


def test_no_idempotency_key_unless_asked(tmp_path: Path) -> None:
    with DeliverApi() as api:
        assert run(api, contacts(tmp_path / "c.jsonl", ["a@x.test"])) == 0
    assert "idempotency-key" not in api.headers[0]


# ---------------------------------------------------------------------- trace


def test_trace_with_records_in_flight_keeps_each_record_whole(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emails = [f"u{i}@x.test" for i in range(12)]
    with DeliverApi(delay=0.02) as api:
        assert run(api, contacts(tmp_path / "c.jsonl", emails), "--trace",
                   "--concurrency", "4") == 0
    assert len({r["email"] for r in api.received}) == 12
    err = capsys.readouterr().err
    blocks = [b for b in err.split("trace: ") if b.strip()]
    # each record's blocks come together, the records in input order
    seen = [e for b in blocks for e in emails if f'"{e}"' in b]
    order = [e for i, e in enumerate(seen) if i == 0 or seen[i - 1] != e]
    assert order == emails
    assert err.count("http: POST") == 12


# ---------------------------------------------------------------------- state file


def test_a_newer_state_file_is_refused_an_older_one_migrated(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 99")
    file = contacts(tmp_path / "c.jsonl", ["a@x.test"])
    with DeliverApi() as api:
        proc = subprocess.run(argv(api, file, "--state", str(newer)), capture_output=True,
                              text=True, timeout=60, check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert "written by a newer manifest-runtime (state version 99" in proc.stderr
        older = tmp_path / "older.db"
        with sqlite3.connect(older) as db:  # the layout before versions
            db.execute("PRAGMA application_id = 1297240916")  # ours (state.APPLICATION_ID)
            db.executescript(
                "CREATE TABLE run_records (run_key TEXT, record_no INTEGER, outcome TEXT, "
                "done_at TEXT); CREATE TABLE dead_letters (id INTEGER PRIMARY KEY "
                "AUTOINCREMENT, run_key TEXT, workflow TEXT NOT NULL, record_no INTEGER NOT "
                "NULL, item INTEGER, stage TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT "
                "NULL, hint TEXT, pointer TEXT NOT NULL, record TEXT NOT NULL, failed_at TEXT "
                "NOT NULL); CREATE TABLE notes_of_a_newer_version (x);")
        assert run(api, file, "--state", str(older)) == 0
    with sqlite3.connect(older) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
        assert {"run_records_v1", "run_records", "notes_of_a_newer_version"} <= tables
        assert db.execute("SELECT COUNT(*) FROM run_records").fetchone()[0] == 1


@pytest.mark.usefixtures("state_backend")
def test_a_damaged_setup_row_is_a_clear_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.db.execute("INSERT INTO setups VALUES ('deliver', '{\"custom_data\": ', 'x')")
        s.db.commit()
    with DeliverApi() as api:
        assert run(api, contacts(tmp_path / "c.jsonl", ["a@x.test"])) == 2
    assert main(["state", "show"]) == 2
    err = capsys.readouterr().err
    assert err.count("the saved setup of workflow 'deliver' is damaged (not JSON") == 2
    assert "Traceback" not in err


# ---------------------------------------------------------------------- input lines


@pytest.mark.usefixtures("state_backend")
def test_undecodable_and_nan_lines_are_read_stage_dead_letters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"email": "a@x.test"}\n{"email": "\xff\xfe@x.test"}\n'
                     b'{"email": "b@x.test", "score": NaN}\n{"email": "c@x.test"}\n')
    with DeliverApi() as api:
        assert run(api, str(path)) == 1
    assert [r["email"] for r in api.received] == ["a@x.test", "c@x.test"]
    assert "read 4, delivered 2, failed 2" in capsys.readouterr().out
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        dead = Journal(s.db, s.lock).dead_letters()
    assert [(d.record_no, d.stage, d.code) for d in dead] == [
        (2, "read", "record-not-utf8"), (3, "read", "record-not-json")]
    assert "line 2 is not UTF-8 (byte 12 of the line" in dead[0].message
    assert "NaN is not a JSON number" in dead[1].message


def test_undecodable_stdin_line_is_a_dead_letter_too(tmp_path: Path) -> None:
    from test_run_cli import AT, AT_SETUP, seed

    seed(AT_SETUP)
    data = (b'{"member": {"email": "a@x.test"}}\n\xc3\x28\n'
            b'{"member": {"email": "b@x.test"}}\n')
    proc = subprocess.run([sys.executable, "-m", "manifest_runtime", "run", AT, "--input", "-"],
                          input=data, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert b"read 3, delivered 2, failed 1" in proc.stdout
    assert dead_codes() == ["record-not-utf8"]


# ---------------------------------------------------------------------- sandbox batches


def _sandbox_and_journal(path: str) -> tuple[set[str], set[str]]:
    """(emails of the sandbox's contacts, emails of the records journaled delivered)."""
    with StateFile(path) as s:
        Journal(s.db, s.lock)
        s.sandbox()
        contacts = {json.loads(d)["email"] for (d,) in s.db.execute(
            "SELECT data FROM ac_records WHERE kind = 'contact'")}
        lines = [n for (n,) in s.db.execute("SELECT line FROM run_records WHERE state = "
                                            "'delivered'")]
    return contacts, {f"u{n - 1}@example.com" for n in lines}


@pytest.mark.usefixtures("state_backend")
def test_kill_9_into_the_sandbox_keeps_or_loses_whole_batches(tmp_path: Path) -> None:
    """Into the sandbox of the state file a batch of records, their contacts and their
    journal rows are one transaction: after SIGKILL every contact has its journal row and
    the reverse, and the rerun delivers exactly the rest."""
    from test_run_cli import AT, AT_SETUP, seed

    seed(AT_SETUP)
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"member": {"email": f"u{i}@example.com"}}) + "\n"
                            for i in range(3000)))
    state = os.environ["MANIFEST_RUNTIME_STATE"]
    command = [sys.executable, "-m", "manifest_runtime", "run", AT, "--input", str(path),
               "--batch-size", "200"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def journaled() -> int:
        with StateFile(state) as s:
            Journal(s.db, s.lock)  # the table, should the run not have made it yet
            return int(s.db.execute("SELECT COUNT(*) FROM run_records").fetchone()[0])

    wait_for(lambda: journaled() >= 400)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    contacts, delivered = _sandbox_and_journal(state)
    assert contacts == delivered and len(delivered) % 200 == 0 and len(delivered) < 3000
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert f"delivered {3000 - len(delivered)}, failed 0; {len(delivered)} of them skipped" \
        in again.stdout
    contacts, delivered = _sandbox_and_journal(state)
    assert contacts == delivered and len(contacts) == 3000


def test_a_full_disk_stops_the_run_with_its_summary_and_no_half_written_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """SQLite's 'database or disk is full' (a page limit stands in for the disk): the run
    stops with its summary and a clear error; what is recorded is whole batches."""
    from test_run_cli import AT, AT_SETUP, seed

    import manifest_runtime.state as state_module

    seed(AT_SETUP)
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"member": {"email": f"u{i}@example.com",
                                                   "first_name": "x" * 2000}}) + "\n"
                            for i in range(400)))
    real_open = state_module.open_db

    def small_disk(where: str) -> sqlite3.Connection:
        db = real_open(where)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + 150}")
        return db

    monkeypatch.setattr(state_module, "open_db", small_disk)
    assert main(["run", AT, "--input", str(path), "--batch-size", "50"]) == 1
    captured = capsys.readouterr()
    assert "activetrail-member-to-contact: read " in captured.out
    assert "the state file failed: database or disk is full" in captured.err
    assert "Traceback" not in captured.err
    monkeypatch.setattr(state_module, "open_db", real_open)
    contacts, delivered = _sandbox_and_journal(os.environ["MANIFEST_RUNTIME_STATE"])
    assert contacts == delivered and len(delivered) % 50 == 0 and len(delivered) < 400


def test_resume_marks_of_a_version_1_state_file_are_carried_over(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A state file from before record identities kept `run_records` keyed by the file's
    SHA-256: after the migration, the same file resumes from those marks (nothing resent)."""
    import hashlib

    file = contacts(tmp_path / "c.jsonl", ["a@x.test", "b@x.test", "c@x.test"])
    old = tmp_path / "v1.db"
    key = f"deliver:{hashlib.sha256(Path(file).read_bytes()).hexdigest()}"
    with sqlite3.connect(old) as db:
        db.execute("PRAGMA application_id = 1297240916")
        db.execute("CREATE TABLE run_records (run_key TEXT NOT NULL, record_no INTEGER NOT "
                   "NULL, outcome TEXT NOT NULL, done_at TEXT NOT NULL, PRIMARY KEY (run_key, "
                   "record_no))")
        db.executemany("INSERT INTO run_records VALUES (?, ?, ?, 'x')",
                       [(key, 1, "delivered"), (key, 2, "failed")])
    with DeliverApi() as api:
        assert run(api, file, "--state", str(old)) == 0
        assert [r["email"] for r in api.received] == ["c@x.test"]
        assert "read 3, delivered 1, failed 0; 2 of them skipped" in capsys.readouterr().out
        assert run(api, file, "--state", str(old), "--retry-failed") == 0
    assert [r["email"] for r in api.received] == ["c@x.test", "b@x.test"]


@pytest.mark.usefixtures("state_backend")
def test_a_damaged_polling_state_row_is_a_clear_error(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.db.execute("INSERT INTO polling_state VALUES ('leads', '{\"cursor\": ', 'x')")
        s.db.commit()
        with pytest.raises(Exception, match="polling_state of workflow 'leads' is not JSON"):
            s.load_polling_state("leads")
    assert main(["state", "show"]) == 2
    err = capsys.readouterr().err
    assert "the state file is damaged: the polling_state of workflow 'leads' is not JSON" in err
    assert "Traceback" not in err


def test_runs_started_together_still_take_turns(tmp_path: Path) -> None:
    """Four processes started at the same moment: one writes, the others wait their turn (the
    owner is looked up and taken in one write transaction); each record arrives once."""
    emails = [f"u{i}@example.com" for i in range(40)]
    file = contacts(tmp_path / "c.jsonl", emails)
    with DeliverApi(delay=0.02) as api:
        procs = [subprocess.Popen(argv(api, file, "--concurrency", "4"), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outs = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    assert sorted(r["email"] for r in api.received) == sorted(emails)


@pytest.mark.usefixtures("state_backend")
def test_a_reused_pid_is_not_the_owner(tmp_path: Path) -> None:
    """The owner's pid now belongs to another process (it started later): taken over."""
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        s.db.execute("INSERT INTO workflow_owners VALUES ('deliver', 'run', ?, '2026-01-01', "
                     "'1')", (f"{socket.gethostname()}:{os.getppid()}",))
        s.db.commit()
    with DeliverApi() as api:
        assert run(api, contacts(tmp_path / "c.jsonl", ["a@x.test"]), "--no-wait") == 0
    assert len(api.received) == 1


def test_a_full_disk_mid_http_run_repeats_nothing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """HTTP target, journal row per record: the disk fills up mid-run; the run stops with its
    summary; once there is room the rerun sends no record twice (one whose end could not be
    written is reported outcome-unknown)."""
    import manifest_runtime.state as state_module

    emails = [f"u{i}@example.com" for i in range(300)]
    file = contacts(tmp_path / "c.jsonl", emails)
    real_open = state_module.open_db

    def small_disk(where: str) -> sqlite3.Connection:
        db = real_open(where)
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0] + 4}")
        return db

    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:  # every table made: room for
        Journal(s.db, s.lock)  # a hundred journal rows or so is left
        s.sandbox()
    with DeliverApi() as api:
        monkeypatch.setattr(state_module, "open_db", small_disk)
        assert run(api, file, "--concurrency", "4") == 1
        captured = capsys.readouterr()
        assert "deliver: read " in captured.out
        assert "the state file failed: database or disk is full" in captured.err
        first = len(api.received)
        assert 0 < first < 300
        monkeypatch.setattr(state_module, "open_db", real_open)
        run(api, file, "--concurrency", "4")
    twice = [e for e, n in Counter(r["email"] for r in api.received).items() if n > 1]
    assert twice == []
    states = journal_states()
    assert states["delivered"] + states["unknown"] == 300 and states["sending"] == 0
    assert states["delivered"] <= len(api.received) <= 300  # the unknown: once or not at all
