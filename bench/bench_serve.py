"""Benchmark webhooks through several `serve` processes on one state: 1 serve against 3, the
same payloads sent round robin by a few client threads, and a bare loopback HTTP server
answering the same requests (the floor: what the client and HTTP alone cost).

    python bench/bench_serve.py [--payloads 300] [--clients 6] [--state postgresql://...]

The workflow is tests/intake/deals.yaml (verification, then a contact and a new deal in the
sandbox per payload). Each mode starts its serves on free ports against a fresh state (a new
SQLite file, or with --state a PostgreSQL URL whose tables are shared: give a fresh schema),
with a loopback fake of the provider's hook API. Prints payloads per second and the ratios.
Start-up is not timed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from manifest_runtime.state import Setup, StateFile

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = str(ROOT / "tests" / "intake" / "deals.yaml")
TOKEN = "key-bench"
SETUP = Setup("orders-in", connection={"account_id": "acc-1", "description": "Orders"},
              mapping={"email": "contact.email", "order": "deal.title", "value": "deal.value",
                       "currency": "deal.currency", "stage": "deal.stage"},
              selection={"resource_id": "orders", "display": "All orders"},
              credentials={"token": TOKEN})


class Answer(BaseHTTPRequestHandler):
    """The provider's hook API (POST -> 201 {id}, DELETE -> 204) and the bare floor."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._reply(201 if self.path.endswith("/hooks") else 200, b'{"id": "hook-1"}')

    def do_DELETE(self) -> None:
        self._reply(204, b"")


def server() -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def send(ports: list[int], payloads: int, clients: int, path: str, tag: str) -> float:
    """Seconds to POST `payloads` distinct bodies (`tag`: distinct between modes) round
    robin over `ports`."""
    turn = iter(range(payloads))
    lock = threading.Lock()
    local = threading.local()  # a client (its connections kept alive) per thread

    def one(n: int) -> None:
        body = json.dumps({"order": f"{tag}-{n}", "email": f"b{n}@example.com", "amount": n})
        with lock:
            port = ports[next(turn) % len(ports)]
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60)
        reply = local.client.post(f"http://127.0.0.1:{port}{path}", content=body,
                                  headers={"X-Signature": "sig-OK",
                                           "Content-Type": "application/json"})
        assert reply.status_code == 200, reply.text

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(payloads)))
    return time.perf_counter() - start


def serves(n: int, state: str, provider: str, payloads: int, clients: int) -> float:
    with StateFile(state) as s:
        s.save_setup(SETUP)
    argv = [sys.executable, "-m", "manifest_runtime", "serve", MANIFEST, "--port", "0",
            "--state", state, "--public-url", "http://127.0.0.1:9/webhooks/orders-in",
            "--remap", f"https://hooks.example.test={provider}"]
    procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for _ in range(n)]
    try:
        ports = []
        for proc in procs:
            assert proc.stderr is not None
            for line in proc.stderr:
                if "(listening on 127.0.0.1:" in line:
                    ports.append(int(line.split("(listening on 127.0.0.1:")[1].split(")")[0]))
                    break
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # drain
        return send(ports, payloads, clients, "/webhooks/orders-in", f"serves{n}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payloads", type=int, default=300)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--state", help="a PostgreSQL URL (default: new SQLite files)")
    args = parser.parse_args()
    provider = server()
    url = f"http://127.0.0.1:{provider.server_address[1]}"
    floor = send([provider.server_address[1]], args.payloads, args.clients, "/floor", "bare")
    rates = {"bare HTTP server": args.payloads / floor}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, 3):
            state = args.state or str(Path(tmp) / f"state-{n}.db")
            seconds = serves(n, state, url, args.payloads, args.clients)
            rates[f"{n} serve{'s' * (n != 1)}"] = args.payloads / seconds
    one = rates["1 serve"]
    for name, rate in rates.items():
        print(f"{name:18} {rate:8.0f} payloads/s  ({rate / one:.2f} x 1 serve)")
    provider.shutdown()


if __name__ == "__main__":
    main()
