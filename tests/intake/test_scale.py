"""Several `manifest-runtime serve` processes on one state, behind a round-robin balancer (the
test client alternates their ports, and fails over as a balancer would when one dies):
one registration for the workflow, every payload journaled before its 200 and delivered into
the sandbox once (each delivery is a new deal: a payload processed twice shows as two), the
duplicates de-duplicated across processes, a process killed with SIGKILL mid-stream losing and
repeating nothing, the payloads a dead process journaled taken over by the others, and the
registration removed only by the last serve to stop."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_provider import TOKEN, FakeProvider

from manifest_runtime.cli import main
from manifest_runtime.state import Setup, StateFile

HERE = Path(__file__).parent
DEALS = str(HERE / "deals.yaml")
WORKFLOW = "orders-in"
SIGNED = {"X-Signature": "sig-OK"}
SETUP = Setup(WORKFLOW, connection={"account_id": "acc-1", "description": "Orders"},
              mapping={"email": "contact.email", "order": "deal.title", "value": "deal.value",
                       "currency": "deal.currency", "stage": "deal.stage"},
              selection={"resource_id": "orders", "display": "All orders"},
              credentials={"token": TOKEN})
BALANCER = "http://127.0.0.1:9/webhooks/orders-in"  # the URL registered (never called here)


def order(n: int) -> bytes:
    """An order webhook's body (bytes: the digest a crashed process journals is of these)."""
    return json.dumps({"order": f"o-{n}", "email": f"buyer{n}@example.com", "amount": n}
                      ).encode()


def post(port: int, body: bytes) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/webhooks/orders-in", content=body,
                      headers={**SIGNED, "Content-Type": "application/json"}, timeout=30)


@dataclass
class Serve:
    """One `serve` process and its stderr lines."""

    proc: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        def pump() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.put(line)

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None, self.err()
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} in: {self.err()}")

    def err(self) -> str:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM; (exit code, stdout, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)  # stdout is the summary: no pipe fills up meanwhile
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.pump.join(10)
        return self.proc.returncode, out, self.err()


@contextmanager
def serves(n: int, provider: FakeProvider, *options: str) -> Iterator[list[Serve]]:
    """`n` serve processes started together on free ports, with the balancer's URL as
    --public-url; killed at the end if still running."""
    argv = [sys.executable, "-m", "manifest_runtime", "serve", DEALS, "--port", "0",
            "--public-url", BALANCER, "--remap", f"https://hooks.example.test={provider.url}",
            *options]
    with ExitStack() as stack:
        started: list[Serve] = []
        for _ in range(n):
            proc = stack.enter_context(subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            stack.callback(_kill, proc)
            started.append(Serve(proc))
        for serve in started:
            line = serve.wait_for("receiving webhooks at ")
            serve.port = int(line.split("(listening on 127.0.0.1:", 1)[1].split(")", 1)[0])
        yield started


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


class Balancer:
    """Round robin over the serves' ports; a serve that does not answer (killed) is taken out
    and the request goes to the next one, as a balancer (or the provider's retry) does."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = list(ports)
        self.down: set[int] = set()
        self.turn = 0
        self.lock = threading.Lock()
        self.failovers = 0

    def post(self, body: bytes) -> httpx.Response:
        for _ in range(10):
            with self.lock:
                live = [p for p in self.ports if p not in self.down]
                port = live[self.turn % len(live)]
                self.turn += 1
            try:
                return post(port, body)
            except httpx.TransportError:  # refused, reset, closed mid-reply
                with self.lock:
                    self.down.add(port)
                    self.failovers += 1
        raise AssertionError("no serve answered")


def committed(number: int) -> tuple[str, int] | None:
    """(outcome, delivered) of webhook `number` as another connection sees the state now."""
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        row = state.db.execute("SELECT outcome, delivered FROM webhook_journal WHERE id = ?",
                               (number,)).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def deals(capsys: pytest.CaptureFixture[str]) -> Counter[str]:
    """The sandbox's deals by title (`manifest-runtime sandbox deals`)."""
    capsys.readouterr()
    assert main(["sandbox", "deals", "--format", "json"]) == 0
    return Counter(deal["title"] for deal in json.loads(capsys.readouterr().out))


def open_rows() -> int:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        return int(state.db.execute(
            "SELECT COUNT(*) FROM webhook_journal WHERE outcome IN ('received', 'processing')"
        ).fetchone()[0])


def crashed_process(*bodies: bytes, processing: bool = False, masked: bool = False) -> None:
    """A process that journals `bodies` as a serve does on arrival, then dies (os._exit)
    before processing them."""
    code = textwrap.dedent(f"""
        import json, os
        from manifest_runtime.intake.journal import WebhookJournal
        from manifest_runtime.intake.webhook import Incoming, digest
        from manifest_runtime.state import StateFile
        state = StateFile(os.environ["MANIFEST_RUNTIME_STATE"])
        journal = WebhookJournal(state.db, state.lock)
        for body in {bodies!r}:
            key = digest(Incoming("POST", "", [], [], body))
            number, first = journal.arrived({WORKFLOW!r}, "orders", "POST", key,
                                            json.loads(body), {masked!r}, 600)
            if {processing!r}:
                journal.processing(number)
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def seed() -> None:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        state.save_setup(SETUP)


def test_three_serves_one_registration_each_payload_once_through_a_kill(
        state_backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed()
    distinct = 45
    sends = [order(n) for n in range(distinct)] + [order(n) for n in range(0, distinct, 3)]
    random.Random(16).shuffle(sends)
    with FakeProvider() as provider, serves(3, provider) as (first, doomed, last):
        posts = [c for c in provider.calls if c[0] == "POST"]
        assert posts == [("POST", "/api/hooks", {"url": BALANCER, "event": "order"})], \
            first.err() + doomed.err() + last.err()
        balancer = Balancer([first.port, doomed.port, last.port])
        late: list[str] = []

        def send(body: bytes) -> tuple[Any, int]:
            reply = balancer.post(body)
            number = int(reply.headers["X-Webhook-Number"])
            seen = committed(number)  # journaled and ended before the reply was sent
            if seen is None or seen[0] not in ("delivered", "duplicate"):
                late.append(f"webhook {number}: {seen} when its {reply.status_code} came")
            return reply.json(), reply.status_code

        # the same payload to the three serves at once: one processes it
        gate = threading.Barrier(3)

        def at_once(port: int) -> Any:
            gate.wait()
            return post(port, order(200)).json()

        with ThreadPoolExecutor(max_workers=3) as pool:
            bodies = list(pool.map(at_once, balancer.ports))
        assert sorted(next(iter(b)) for b in bodies) == ["delivered", "duplicate", "duplicate"]

        # a serve that dies after journaling two payloads: the live ones take them over
        crashed_process(order(100), order(101))
        with ThreadPoolExecutor(max_workers=6) as pool:
            before = list(pool.map(send, sends[:20]))
            futures = [pool.submit(send, p) for p in sends[20:]]
            time.sleep(0.05)  # requests in flight to every serve
            doomed.proc.kill()  # SIGKILL: no goodbye, no delete
            doomed.proc.wait()
            after = [f.result() for f in futures]
        deadline = time.monotonic() + 20
        while open_rows() and time.monotonic() < deadline:  # the take-over ticks (2 s)
            time.sleep(0.2)
        assert open_rows() == 0
        assert late == []
        replies = before + after
        assert all(status == 200 for _, status in replies), replies
        assert sum(1 for body, _ in replies if "duplicate" in body) >= len(sends) - distinct
        got = deals(capsys)
        assert got == Counter({f"o-{n}": 1 for n in [*range(distinct), 100, 101, 200]}), got
        assert doomed.port in balancer.down and balancer.failovers >= 1

        code, out, err = first.stop()  # another serve still receives: the hook stays
        assert code == 128 + signal.SIGTERM and "Traceback" not in err, err
        assert "registration kept: 1 other serve process of the workflow still receives" \
            in err, err
        assert [c[0] for c in provider.calls] == ["POST"]
        code, out, err = last.stop()  # the last one removes it
        assert code == 128 + signal.SIGTERM and "Traceback" not in err, err
        assert "orders-in: received " in out, out
        assert f"removed the registration for {BALANCER} (delete ran)" in err, err
        assert [c[0] for c in provider.calls] == ["POST", "DELETE"]
    taken = first.err() + doomed.err() + last.err()
    assert "(taken over from " in taken  # the crashed process's payloads


def test_a_restarted_serve_takes_over_what_a_dead_one_journaled(
        state_backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Journaled and not processed: processed at the next start, once; its retry is a
    duplicate. Marked `processing` (its requests may have gone out): an outcome-unknown dead
    letter, not sent again. Journaled with secrets masked out: a webhook-not-kept dead
    letter (it cannot be processed as it came)."""
    seed()
    crashed_process(order(1))
    crashed_process(order(2), processing=True)
    crashed_process(order(3), masked=True)
    with FakeProvider() as provider, serves(1, provider) as (serve,):
        reply = post(serve.port, order(1))
        assert reply.status_code == 200 and "duplicate" in reply.json(), reply.text
        capsys.readouterr()
        assert main(["state", "show"]) == 0
        shown = capsys.readouterr().out
        assert "webhook receivers (serve processes):\n  orders-in: " \
            f"{socket.gethostname()}:{serve.proc.pid} at {BALANCER} (since " in shown, shown
        assert "; running)" in shown, shown
        code, out, err = serve.stop()
    assert code == 128 + signal.SIGTERM, err
    assert deals(capsys) == Counter({"o-1": 1}), err
    assert "webhook 1: POST (taken over from " in err, err  # before it served
    assert "webhook 2: POST (taken over from " in err and "outcome-unknown" in err, err
    assert "webhook 3: POST (taken over from " in err and "webhook-not-kept" in err, err
    assert "3 taken over from stopped serves" in out, out


def test_the_owner_killed_is_taken_over_and_two_serves_stopping_together_delete_once(
        state_backend: str) -> None:
    seed()
    with FakeProvider() as provider, serves(1, provider) as (owner,), \
            serves(2, provider) as (second, third):
        assert [c[0] for c in provider.calls] == ["POST"]
        assert "receiving with it (create not run again)" in second.err()  # joined
        assert "receiving with it (create not run again)" in third.err()
        owner.proc.kill()  # SIGKILL: the registration stays with the provider
        owner.proc.wait()
        deadline = time.monotonic() + 20
        while "took the registration for " not in second.err() + third.err():
            assert time.monotonic() < deadline, second.err() + third.err()
            time.sleep(0.1)
        for serve in (second, third):  # both at once: one of them runs delete
            serve.proc.send_signal(signal.SIGTERM)
        for serve in (second, third):
            serve.proc.wait(timeout=30)
            serve.pump.join(10)
        errs = second.err() + third.err()
        assert [c[0] for c in provider.calls] == ["POST", "DELETE"], errs
        assert errs.count("(delete ran)") == 1, errs
        assert "Traceback" not in errs
