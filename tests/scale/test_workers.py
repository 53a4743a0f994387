"""`run --workers N` / `--scheduler ADDRESS` (pipeline/distributed.py): each record delivered
exactly once over worker processes, the same record identities as a single-process run (so
the two resume each other), a killed worker repeats nothing, and the usage errors."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from deliver_api import DeliverApi
from test_run_cli import AT, AT_SETUP, seed

from manifest_runtime.cli import main
from manifest_runtime.state import StateFile

ROOT = Path(__file__).resolve().parents[2]
DELIVER = str(ROOT / "tests/pipeline/deliver.yaml")
POSTGRES_RECORDS = int(os.environ.get("MANIFEST_RUNTIME_TEST_PG_RECORDS", "3000"))


def state_path() -> str:
    return os.environ["MANIFEST_RUNTIME_STATE"]


def rows(sql: str) -> list[Any]:
    """A query's rows from the test's state (SQLite file or PostgreSQL)."""
    with StateFile(state_path()) as state:
        return [tuple(r) for r in state.db.execute(sql).fetchall()]


def journal() -> list[tuple[str, str, int]]:
    return rows("SELECT record_id, state, line FROM run_records")


def deliver(api: DeliverApi, path: Path, *options: str) -> int:
    return main(["run", DELIVER, "--workflow", "deliver", "--contacts", str(path), "--remap",
                 f"https://deliver.example.com={api.url}", *options])


def test_20000_payloads_on_2_workers_each_delivered_once_into_the_sandbox(
        cluster: Any, state_backend: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """On SQLite and PostgreSQL. PostgreSQL's sandbox writes ~10x slower than SQLite's here
    (bench/bench_state.py): 3,000 payloads by default, $MANIFEST_RUNTIME_TEST_PG_RECORDS to
    run the 20,000."""
    n = 20_000 if state_backend == "sqlite" else POSTGRES_RECORDS
    seed(AT_SETUP)
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"member": {"email": f"u{i}@example.com"}}) + "\n"
                            for i in range(n)))
    assert main(["run", AT, "--input", str(path), "--scheduler", cluster.scheduler.address]) == 0
    assert f"read {n}, delivered {n}, failed 0" in capsys.readouterr().out
    ended = journal()
    assert sorted(line for _, _, line in ended) == list(range(1, n + 1))
    assert {s for _, s, _ in ended} == {"delivered"}
    emails = [json.loads(d)["email"] for (d,) in rows(
        "SELECT data FROM ac_records WHERE kind = 'contact'")]
    assert sorted(emails) == sorted(f"u{i}@example.com" for i in range(n))


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_workers_resume_a_single_process_run_with_the_same_identities(
        cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Identical lines in different parts keep their whole-file ordinals: a run on workers
    skips exactly what a single-process run delivered, and sends each of the rest once."""
    path = tmp_path / "in.jsonl"
    emails = [f"u{i % 1500}@example.com" for i in range(3000)]  # each line twice, far apart
    path.write_text("".join(json.dumps({"email": e}) + "\n" for e in emails))
    with DeliverApi() as api:
        assert deliver(api, path, "--limit", "1000") == 0
        capsys.readouterr()
        single = {key for key, _, _ in journal()}
        assert deliver(api, path, "--scheduler", cluster.scheduler.address,
                       "--concurrency", "4") == 0
        out = capsys.readouterr().out
        assert "read 3000, delivered 2000, failed 0; 1000 of them skipped" in out
        received = Counter(body["email"] for body in api.received)
    assert received == Counter(emails)  # each line once: duplicates are records of their own
    rows = journal()
    assert len(rows) == 3000 and single < {key for key, _, _ in rows}
    # and the reverse: a single-process rerun finds everything done
    with DeliverApi() as api:
        assert deliver(api, path) == 0
        assert "3000 of them skipped" in capsys.readouterr().out and not api.received


@pytest.mark.usefixtures("state_backend")  # SQLite and PostgreSQL
def test_a_killed_worker_loses_and_repeats_nothing(cluster: Any, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """SIGKILL to a worker process mid-run: Dask runs its part again on a worker, the journal
    skips what was delivered; the requests that were in flight end `unknown` (never resent);
    no record reaches the API twice and none is missing from the journal."""
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"email": f"k{i}@example.com"}) + "\n"
                            for i in range(2000)))
    pids: dict[str, int] = cluster.run(os.getpid)
    killed: list[int] = []
    with DeliverApi(delay=0.005) as api:
        def kill_when_busy() -> None:
            deadline = time.monotonic() + 60
            while len(api.received) < 300 and time.monotonic() < deadline:
                time.sleep(0.005)
            busy = [w for w, keys in cluster.processing().items()
                    if any(str(k).startswith("run-part-") for k in keys)]
            killed.append(pids[busy[0]])  # a worker in the middle of a part
            os.kill(killed[0], signal.SIGKILL)

        threading.Thread(target=kill_when_busy, daemon=True).start()
        code = deliver(api, path, "--scheduler", cluster.scheduler.address,
                       "--concurrency", "4")
        received = Counter(body["email"] for body in api.received)
    assert killed and killed[0] not in cluster.run(os.getpid).values()
    out = capsys.readouterr().out
    assert max(received.values()) == 1  # nothing repeated
    rows = journal()
    assert sorted(line for _, _, line in rows) == list(range(1, 2001))  # nothing lost
    states = Counter(s for _, s, _ in rows)
    delivered = {f"k{line - 1}@example.com" for _, s, line in rows if s == "delivered"}
    assert delivered <= set(received)
    assert set(received) - delivered <= {f"k{line - 1}@example.com" for _, s, line in rows
                                         if s == "unknown"}
    assert set(states) <= {"delivered", "unknown"} and states["unknown"] <= 4  # in flight
    assert (code, states["unknown"] > 0) in ((0, False), (1, True)), out
    assert "read 2000" in out


@pytest.mark.parametrize(("options", "says"), [
    (["--scheduler", "tcp://10.1.2.3:8786"], "workers on other machines cannot share"),
    (["--workers", "2", "--dry-run"], "--workers 2 does not go with --dry-run"),
    (["--workers", "2", "--limit", "5"], "does not go with --limit"),
    (["--workers", "2", "--state", ":memory:"], "--state :memory: keeps everything"),
])
def test_usage_errors(options: list[str], says: str, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"email": "a@example.com"}\n')
    assert main(["run", DELIVER, "--workflow", "deliver", "--contacts", str(path),
                 *options]) == 2
    assert says in capsys.readouterr().err


def test_standard_input_cannot_be_split(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO('{"member": {"email": "a@example.com"}}\n'))
    seed(AT_SETUP)
    assert main(["run", AT, "--input", "-", "--workers", "2"]) == 2
    assert "standard input (it cannot be split" in capsys.readouterr().err


def test_ctrl_c_stops_the_workers_run_and_a_rerun_finishes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C in a terminal reaches the whole process group, local workers included: they
    ignore it, the command stops the run (the records in flight end), exits 130; the rerun
    (here in one process) sends the rest, nothing twice."""
    import subprocess
    import sys

    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"email": f"c{i}@example.com"}) + "\n"
                            for i in range(1000)))
    with DeliverApi(delay=0.005) as api:
        command = [sys.executable, "-m", "manifest_runtime", "run", DELIVER, "--workflow",
                   "deliver", "--contacts", str(path), "--remap",
                   f"https://deliver.example.com={api.url}", "--workers", "2",
                   "--concurrency", "4"]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while len(api.received) < 100 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.killpg(proc.pid, signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        assert proc.returncode == 130, err
        assert "stopped before the end: run the same command again to resume" in err
        first = len(api.received)
        assert 100 <= first < 1000 and f"delivered {first}," in out
        assert deliver(api, path, "--concurrency", "8") == 0
        assert f"{first} of them skipped" in capsys.readouterr().out
        received = Counter(body["email"] for body in api.received)
    assert len(received) == 1000 and max(received.values()) == 1


def _part(index: int, failed: bool) -> Any:
    from manifest_runtime.pipeline.batch import RecordResult, Summary
    from manifest_runtime.pipeline.distributed import PartResult

    if failed:
        raise RuntimeError(f"part {index} broke")
    time.sleep(index * 0.5)  # the last one still runs when part 1 fails
    result = RecordResult(index * 10 + 1, None, "failed", "x", "bad")
    return PartResult(index, Summary(read=10, delivered=9, failed=1), (result,))


def test_a_part_that_fails_after_its_retries_stops_the_others_and_is_said(cluster: Any) -> None:
    from manifest_runtime.pipeline.distributed import WorkersFailed, _gather, _Tally

    futures = [cluster.submit(_part, i, i == 1, pure=False) for i in range(3)]
    handed: list[int] = []
    stopped: list[bool] = []
    with pytest.raises(WorkersFailed, match="RuntimeError: part 1 broke") as caught:
        _gather(futures, _Tally(None), lambda r: handed.append(r.line), lambda: False,
                lambda: stopped.append(True))
    assert stopped == [True]  # the part still running was told to stop
    assert caught.value.summary.read == 20 and handed == [1, 21]  # the parts that ended


def test_workers_stop_when_the_command_no_longer_holds_the_workflow(
        cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A command that died leaves its parts running on a remote cluster; once another takes
    the workflow over (table workflow_owners), those parts take no new record: never two
    writers. Here the claim is taken from under a live command."""
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"email": f"o{i}@example.com"}) + "\n"
                            for i in range(3000)))
    with DeliverApi(delay=0.02) as api:  # 15 s for all of them: stopped long before
        def take_over() -> None:
            deadline = time.monotonic() + 60
            while len(api.received) < 100 and time.monotonic() < deadline:
                time.sleep(0.01)
            with StateFile(state_path()) as state, state.lock, state.db:
                state.db.execute("UPDATE workflow_owners SET owner = 'elsewhere:1'")

        threading.Thread(target=take_over, daemon=True).start()
        started = time.monotonic()
        deliver(api, path, "--scheduler", cluster.scheduler.address, "--concurrency", "2")
        took = time.monotonic() - started
    out = capsys.readouterr().out
    received = len(api.received)
    assert 100 <= received < 2500 and took < 12, (received, took)
    assert f"read {received}, delivered {received}" in out
