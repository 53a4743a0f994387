from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from http_helpers import TOKEN, FakeClock, Harness, json_response, manifest

from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.ratelimit import Limit, TokenBucket, build_rate_limiter
from manifest_runtime.http.types import HttpRequest

AUTH = {"type": "token", "header_key": "API-TOKEN", "verify_url": "https://api.example.com/me"}


def test_simple_shape_limits_all_methods(harness: Harness) -> None:
    api = {"base_url": "https://api.example.com",
           "rate_limit": {"app": {"requests": 2, "period": 1}}}
    client = harness.client(manifest(AUTH, api), lambda r: json_response(200, {}),
                            Credentials(token=TOKEN))
    start = harness.clock()
    for method in ("GET", "POST", "GET", "DELETE"):
        client.send(HttpRequest(method, "https://api.example.com/x"))
    assert harness.clock.sleeps == [pytest.approx(0.5), pytest.approx(0.5)]
    assert harness.clock() - start == pytest.approx(1.0)


def test_read_write_shape_and_missing_side_unlimited() -> None:
    clock = FakeClock()
    limiter = build_rate_limiter({"user": {"read": {"requests": 1, "period": 60}}},
                                 clock, clock.sleep)
    for _ in range(5):
        limiter.acquire("POST")
    assert clock.sleeps == []
    limiter.acquire("GET")
    limiter.acquire("HEAD")
    assert clock.sleeps == [pytest.approx(60.0)]
    both = build_rate_limiter({"user": {"read": {"requests": 1, "period": 1},
                                        "write": {"requests": 1, "period": 10}}},
                              clock, clock.sleep)
    both.acquire("PUT")
    both.acquire("PATCH")
    assert clock.sleeps[-1] == pytest.approx(10.0)


def test_external_target_is_not_limited(harness: Harness) -> None:
    api = {"base_url": "https://api.example.com",
           "rate_limit": {"app": {"requests": 1, "period": 100}}}
    client = harness.client(manifest(AUTH, api), lambda r: json_response(200, {}),
                            Credentials(token=TOKEN))
    for _ in range(3):
        client.send(HttpRequest("GET", "https://other.example.org/", target="external"))
    assert harness.clock.sleeps == []


def test_bucket_is_shared_by_concurrent_callers() -> None:
    lock = threading.Lock()
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:  # records waits; time stands still
        with lock:
            waits.append(seconds)

    bucket = TokenBucket(Limit(4, 1.0), lambda: now[0], sleep)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: bucket.acquire(), range(12)))
    # 4 tokens up front, then each caller reserves the next slot: 0.25 s apart
    assert sorted(waits) == pytest.approx([0.25 * n for n in range(1, 9)])


def test_malformed_limits_are_ignored() -> None:
    clock = FakeClock()
    limiter = build_rate_limiter({"app": {"requests": "many", "period": 1}, "user": 3},
                                 clock, clock.sleep)
    assert limiter.unlimited
