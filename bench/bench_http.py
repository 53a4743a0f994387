"""Benchmark the HTTP layer against a bare pooled `httpx.Client`, side by side in one run.

    python bench/bench_http.py [--requests 400] [--concurrency 16] [--runs 5]

A stdlib ThreadingHTTPServer on 127.0.0.1 (loopback only) answers every POST with JSON.
`HttpClient` (token auth, retries, rate limiter with no limit, trace off) sends the same
bounded number of POSTs as a bare pooled `httpx.Client`, sequentially and from a
ThreadPoolExecutor. Prints per-request times and the ratio (target: <= 1.3x).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from manifest_runtime.compile import load_and_compile
from manifest_runtime.http import build_http_service
from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.types import HttpRequest

BODY = json.dumps({"id": 1, "ok": True, "items": list(range(20))}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so both clients can pool connections
    disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms per request

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return


def serve() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def timed(send: Callable[[int], object], n: int, concurrency: int) -> float:
    """Seconds per request for n sends (sequential when concurrency is 1)."""
    start = time.perf_counter()
    if concurrency == 1:
        for i in range(n):
            send(i)
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(send, range(n)))
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    n = max(1, min(args.requests, 5000))  # bounded

    server, base = serve()
    manifest = {"$version": "2", "api": {"base_url": base},
                "auth": {"main": {"type": "token", "header_key": "Authorization",
                                  "token_prefix": "Bearer", "verify_url": base + "/me"}},
                "workflows": []}
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "bench.json"
        file.write_text(json.dumps(manifest))
        compiled = load_and_compile(str(file))
    client = build_http_service(compiled, "main", credentials=Credentials(token="bench-token"),
                                env={})
    bare = httpx.Client(timeout=30.0)
    payload = {"email": "a@example.test", "n": 1}

    def via_runtime(i: int) -> object:
        response = client.send(HttpRequest("POST", base + "/contacts", json=payload))
        assert response.status == 200
        return response.body

    def via_bare(i: int) -> object:
        response = bare.post(base + "/contacts", json=payload,
                             headers={"Authorization": "Bearer bench-token"})
        assert response.status_code == 200
        return response.json()

    try:
        for send in (via_runtime, via_bare):  # warm the pools
            timed(send, 20, 1)
        for concurrency in (1, args.concurrency):
            runtimes, plains = [], []
            for _ in range(args.runs):  # interleaved, so machine noise hits both alike
                runtimes.append(timed(via_runtime, n, concurrency))
                plains.append(timed(via_bare, n, concurrency))
            runtime, plain = min(runtimes), min(plains)
            label = "sequential" if concurrency == 1 else f"concurrency {concurrency}"
            print(f"{label:>15}: HttpClient {runtime * 1e6:7.0f} us/req   bare httpx.Client "
                  f"{plain * 1e6:7.0f} us/req   ratio {runtime / plain:.2f}x "
                  f"(target <= 1.3x, {n} POSTs, best of {args.runs})")
    finally:
        client.close()
        bare.close()
        server.shutdown()


if __name__ == "__main__":
    main()
