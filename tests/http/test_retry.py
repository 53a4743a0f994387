from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
from http_helpers import TOKEN, Harness, json_response, manifest

from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.retry import RetryPolicy, parse_retry_after
from manifest_runtime.http.types import HttpRequest

AUTH = {"type": "token", "header_key": "X-Api-Key", "verify_url": "https://api.example.com/me"}
URL = f"https://api.example.com/items?api_key={TOKEN}"


def sequence(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def test_retry_after_seconds_is_honoured_and_each_attempt_traced(harness: Harness) -> None:
    client = harness.client(manifest(AUTH), sequence(
        json_response(503, {}, {"Retry-After": "7"}), json_response(429, {}),
        json_response(200, {"ok": True})), Credentials(token=TOKEN),
        retry=RetryPolicy(random=lambda: 0.5))
    response = client.send(HttpRequest("GET", URL))
    assert response.body == {"ok": True}
    assert harness.clock.sleeps == [7.0, 0.5]  # Retry-After, then 0.5 * min(30, 0.5 * 2)
    assert [(e.attempt, e.status) for e in harness.events] == [(1, 503), (2, 429), (3, 200)]
    assert all("api_key=%2A%2A%2A" in e.url or "api_key=***" in e.url for e in harness.events)


def test_retry_after_http_date(harness: Harness) -> None:
    when = format_datetime(datetime.fromtimestamp(harness.clock() + 12, UTC), usegmt=True)
    client = harness.client(manifest(AUTH), sequence(
        json_response(502, {}, {"Retry-After": when}), json_response(200, {})),
        Credentials(token=TOKEN))
    client.send(HttpRequest("GET", URL))
    assert harness.clock.sleeps == [12.0]


def test_last_non_2xx_is_returned_after_max_attempts(harness: Harness) -> None:
    client = harness.client(manifest(AUTH), lambda r: json_response(500, {"e": 1}),
                            Credentials(token=TOKEN), max_attempts=2)
    assert client.send(HttpRequest("GET", URL)).status == 500
    assert len(harness.requests) == 2


def test_4xx_is_not_retried(harness: Harness) -> None:
    client = harness.client(manifest(AUTH), lambda r: json_response(404, {}),
                            Credentials(token=TOKEN))
    assert client.send(HttpRequest("GET", URL)).status == 404
    assert len(harness.requests) == 1 and harness.clock.sleeps == []


def test_connect_error_raises_http_connect_with_redacted_url(harness: Harness) -> None:
    client = harness.client(manifest(AUTH), sequence(
        *[httpx.ConnectError(f"refused for {TOKEN}") for _ in range(3)]),
        Credentials(token=TOKEN))
    err = harness.error(lambda: client.send(HttpRequest("GET", URL, where=("workflows", 0))))
    assert err.diagnostic.code == "http-connect"
    assert err.diagnostic.message.startswith("GET https://api.example.com/items?api_key=")
    assert err.diagnostic.path == ("workflows", 0)
    assert [e.error is not None for e in harness.events] == [True] * 3
    assert len(harness.clock.sleeps) == 2


def test_timeout_is_retried_then_reported(harness: Harness) -> None:
    client = harness.client(manifest(AUTH), sequence(
        httpx.ReadTimeout("slow"), json_response(200, {"n": 1})), Credentials(token=TOKEN))
    assert client.send(HttpRequest("GET", URL)).body == {"n": 1}
    client2 = harness.client(manifest(AUTH), sequence(httpx.ConnectTimeout("slow")),
                             Credentials(token=TOKEN), max_attempts=1, timeout=2.5)
    err = harness.error(lambda: client2.send(HttpRequest("POST", URL, json={"a": 1})))
    assert err.diagnostic.code == "http-timeout"
    assert "timed out after 2.5 s" in err.diagnostic.message


def test_backoff_is_full_jitter_capped() -> None:
    policy = RetryPolicy(random=lambda: 1.0)
    assert [policy.delay(n) for n in (1, 2, 3, 8, 20)] == [0.5, 1.0, 2.0, 30.0, 30.0]
    assert RetryPolicy(random=lambda: 0.0).delay(5) == 0.0
    assert policy.delay(1, "100000") is None  # longer than max_retry_after: no retry at all
    assert policy.delay(1, "1.5") == 1.5
    assert parse_retry_after("soon", 0.0) is None
    assert parse_retry_after("-3", 0.0) is None
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_a_retry_after_beyond_the_cap_is_not_waited_for(harness: Harness) -> None:
    notices: list[str] = []
    client = harness.client(manifest(AUTH), sequence(
        json_response(429, {}, {"Retry-After": "3600"})), Credentials(token=TOKEN),
        notice=notices.append)
    assert client.send(HttpRequest("GET", URL)).status == 429
    assert harness.clock.sleeps == [] and len(harness.requests) == 1
    assert "'3600'" in notices[0] and "not retrying" in notices[0]
    harness.texts.extend(notices)


def test_long_waits_are_announced(harness: Harness) -> None:
    notices: list[str] = []
    client = harness.client(manifest(AUTH), sequence(
        json_response(503, {}, {"Retry-After": "5"}), json_response(200, {})),
        Credentials(token=TOKEN), notice=notices.append)
    client.send(HttpRequest("GET", URL))
    assert notices == ["waiting 5.0 s before retrying GET "
                       "https://api.example.com/items?api_key=*** (attempt 2)"]


POST_CASES = [  # (first outcome, retried by default?)
    (json_response(502, {}), False),  # the server may have acted before the proxy failed
    (httpx.ReadTimeout("slow"), False),  # the request left; the answer did not come
    (httpx.RemoteProtocolError("dropped"), False),
    (json_response(503, {}), True),  # "service unavailable": not acted on
    (json_response(500, {}, {"Retry-After": "0"}), True),  # the server asks for a retry
    (json_response(429, {}), True),
    (httpx.ConnectError("refused"), True),  # never left
]


@pytest.mark.parametrize(("first", "retried"), POST_CASES)
def test_post_is_retried_only_when_not_acted_on(harness: Harness,
                                                first: httpx.Response | Exception,
                                                retried: bool) -> None:
    client = harness.client(manifest(AUTH), sequence(first, json_response(200, {"ok": 1})),
                            Credentials(token=TOKEN))
    request = HttpRequest("POST", "https://api.example.com/messages", json={"to": "+1"})
    if retried:
        assert client.send(request).status == 200
    elif isinstance(first, Exception):
        err = harness.error(lambda: client.send(request))
        assert "--retry-unsafe" in (err.diagnostic.hint or "")
        assert "(1 attempt)" in err.diagnostic.message
    else:
        assert client.send(request).status == 502
    assert len(harness.requests) == (2 if retried else 1)


def test_retry_unsafe_retries_post_like_get(harness: Harness) -> None:
    client = harness.client(manifest(AUTH), sequence(
        json_response(502, {}), httpx.ReadTimeout("slow"), json_response(200, {})),
        Credentials(token=TOKEN), retry_unsafe=True)
    assert client.send(HttpRequest("POST", "https://api.example.com/m", json={})).status == 200
    assert len(harness.requests) == 3
