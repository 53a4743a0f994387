"""Benchmark `run --workers N` (pipeline/distributed.py) against one process, for an
HTTP-bound target: a local server (127.0.0.1, its own process) that answers each POST after
`--latency` seconds, as a remote API would.

    python bench/bench_workers.py [--records 3000] [--latency 0.02] [--concurrency 8]

Runs, each into a fresh state file, over the same contacts (tests/pipeline/deliver.yaml):

    one process         run --concurrency C                 (no Dask)
    1 worker            run --workers 1 --concurrency C     (embedded LocalCluster)
    2 workers           run --workers 2 --concurrency C     (2x the records in flight)
    1 process, 2C       run --concurrency 2C                (the same records in flight
                                                             as 2 workers, one process)

and prints records per second and the ratios. Wall-clock times include the cluster's start
(~2-4 s here): the gain shows on runs longer than that. Not a test: speed claims live here.

    python bench/bench_workers.py --sandbox [--records 20000]

instead delivers payloads into the sandbox account of a SQLite state file (the ActiveTrail
example): one process, 1 worker, 2 workers (they take turns on the file's one writer).

`--postgres` runs either against a PostgreSQL state instead (a throwaway local cluster, as the
tests start one: tests/pgcluster.py; a fresh database per run).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = str(ROOT / "tests/pipeline/deliver.yaml")


def serve(port: multiprocessing.Queue, latency: float) -> None:  # type: ignore[type-arg]
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(latency)
            body = b'{"ok": true}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    port.put(server.server_address[1])
    server.serve_forever()


def fresh_state(folder: str, name: str) -> str:
    """A fresh state: a file in `folder`, or a new database of the PostgreSQL cluster."""
    if POSTGRES:
        url: str = POSTGRES[0].new_database()
        return url
    return os.path.join(folder, f"{name}.db")


POSTGRES: list[Any] = []  # the throwaway cluster (--postgres)


def run(url: str, contacts: str, folder: str, name: str, *options: str) -> float:
    """Seconds for one `run` into a fresh state (the CLI in this process)."""
    from manifest_runtime.cli import main

    state = fresh_state(folder, name)
    argv = ["run", MANIFEST, "--workflow", "deliver", "--contacts", contacts, "--remap",
            f"https://deliver.example.com={url}", "--state", state, "--quiet", *options]
    start = time.perf_counter()
    code = main(argv)
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{name}: exit {code}")
    return elapsed


def sandbox(records: int) -> None:
    """Payloads into the sandbox of a SQLite state file: one process, 1 and 2 workers."""
    from manifest_runtime.cli import main as cli
    from manifest_runtime.state import Setup, StateFile

    manifest = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
    setup = Setup("activetrail-member-to-contact",
                  custom_data={"group": {"value": "1001", "display": "Group 1"},
                               "tag": {"value": "vip", "display": "vip"}},
                  mapping={"email": "email", "first_name": "firstName"},
                  selection={"resource_id": "1001", "display": "Group 1"})
    times = {}
    with tempfile.TemporaryDirectory() as folder:
        payloads = os.path.join(folder, "payloads.jsonl")
        with open(payloads, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"member": {"email": f"u{i}@example.com",
                                                "first_name": f"U{i}"}}) + "\n"
                         for i in range(records))
        for name, options in (("one process", []), ("1 worker", ["--workers", "1"]),
                              ("2 workers", ["--workers", "2"])):
            state = fresh_state(folder, str(len(times)))
            with StateFile(state) as s:
                s.save_setup(setup)
            start = time.perf_counter()
            if cli(["run", manifest, "--input", payloads, "--state", state, "--quiet",
                    *options]) != 0:
                raise SystemExit(f"{name}: failed")
            times[name] = time.perf_counter() - start
    kind = "PostgreSQL state" if POSTGRES else "SQLite state file"
    print(f"{records} payloads into the sandbox of a {kind}, {os.cpu_count()} cores")
    for name, seconds in times.items():
        print(f"  {name:<12} {seconds:6.2f} s  {records / seconds:7.0f} records/s")
    print(f"2 workers vs one process: {times['one process'] / times['2 workers']:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=3000)
    p.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    p.add_argument("--concurrency", type=int, default=8, help="records in flight per worker")
    p.add_argument("--sandbox", action="store_true",
                   help="into the sandbox of the state instead of over HTTP")
    p.add_argument("--postgres", action="store_true",
                   help="a PostgreSQL state (a throwaway local cluster) instead of SQLite")
    a = p.parse_args()
    if a.postgres:
        sys.path.insert(0, str(ROOT / "tests"))
        import pgcluster

        POSTGRES.append(pgcluster.start())
    try:
        if a.sandbox:
            sandbox(a.records if a.records != 3000 else 20_000)
        else:
            http(a)
    finally:
        if POSTGRES:
            POSTGRES[0].stop()


def http(a: argparse.Namespace) -> None:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(queue, a.latency), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{queue.get(timeout=30)}"
    c = str(a.concurrency)
    with tempfile.TemporaryDirectory() as folder:
        contacts = os.path.join(folder, "contacts.jsonl")
        with open(contacts, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"email": f"u{i}@example.com"}) + "\n"
                         for i in range(a.records))
        sys.stdout.flush()
        times = {
            "one process": run(url, contacts, folder, "single", "--concurrency", c),
            "1 worker": run(url, contacts, folder, "w1", "--workers", "1",
                            "--concurrency", c),
            "2 workers": run(url, contacts, folder, "w2", "--workers", "2",
                             "--concurrency", c),
            f"one process, concurrency {2 * a.concurrency}": run(
                url, contacts, folder, "single2", "--concurrency", str(2 * a.concurrency)),
        }
    server.terminate()
    kind = "PostgreSQL state" if POSTGRES else "SQLite state file"
    print(f"{a.records} records, {a.latency * 1000:.0f} ms per request, concurrency "
          f"{a.concurrency} per worker, {os.cpu_count()} cores, {kind}")
    for name, seconds in times.items():
        print(f"  {name:<32} {seconds:6.2f} s  {a.records / seconds:7.0f} records/s")
    one, two = times["1 worker"], times["2 workers"]
    print(f"2 workers vs 1 worker: {one / two:.2f}x faster")
    print(f"2 workers vs one process: {times['one process'] / two:.2f}x faster")


if __name__ == "__main__":
    main()
