"""Client-side rate limiting for `api.rate_limit` (both shapes, reference §3.2).

    {"user"|"app": {"requests": 10, "period": 1}}
    {"user"|"app": {"read": {"requests": 20, "period": 60}, "write": {...}}}

Each limit is a token bucket (capacity `requests`, refilled at `requests / period` per second)
shared by every concurrent request. GET/HEAD/OPTIONS count as reads, everything else as
writes; a missing side is unlimited. Locally there is one connection, so `user` and `app`
limits both apply to it (when both are given, a request waits for both).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Clock = Callable[[], float]
Sleep = Callable[[float], None]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Limit:
    requests: int
    period: float  # seconds


class TokenBucket:
    """A thread-safe token bucket. `acquire` reserves a token under the lock and sleeps outside
    it, so concurrent callers queue fairly and never sleep while holding the lock."""

    def __init__(self, limit: Limit, clock: Clock, sleep: Sleep) -> None:
        self.limit = limit
        self._rate = limit.requests / limit.period
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(limit.requests)
        self._stamp = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.limit.requests),
                               self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class RateLimiter:
    def __init__(self, read: list[TokenBucket], write: list[TokenBucket]) -> None:
        self._read = read
        self._write = write

    def acquire(self, method: str) -> float:
        buckets = self._read if method.upper() in READ_METHODS else self._write
        return sum(bucket.acquire() for bucket in buckets)

    @property
    def unlimited(self) -> bool:
        return not self._read and not self._write


def _limit(raw: Any) -> Limit | None:
    if not isinstance(raw, dict):
        return None
    requests, period = raw.get("requests"), raw.get("period")
    valid = (isinstance(requests, int | float) and isinstance(period, int | float)
             and not isinstance(requests, bool) and requests > 0 and period > 0)
    return Limit(int(requests), float(period)) if valid else None  # type: ignore[arg-type]


def parse_rate_limit(raw: Any) -> tuple[list[Limit], list[Limit]]:
    """(read limits, write limits) from `api.rate_limit`; malformed parts are ignored (the
    validator reports them)."""
    reads: list[Limit] = []
    writes: list[Limit] = []
    if not isinstance(raw, dict):
        return reads, writes
    for scope in ("user", "app"):
        entry = raw.get(scope)
        if not isinstance(entry, dict):
            continue
        if "read" in entry or "write" in entry:
            read, write = _limit(entry.get("read")), _limit(entry.get("write"))
            reads += [read] if read else []
            writes += [write] if write else []
        else:
            both = _limit(entry)
            if both is not None:
                reads.append(both)
                writes.append(both)
    return reads, writes


def build_rate_limiter(raw: Any, clock: Clock, sleep: Sleep) -> RateLimiter:
    reads, writes = parse_rate_limit(raw)
    shared: dict[int, TokenBucket] = {}  # a single-shape limit is one bucket for both sides

    def bucket(limit: Limit) -> TokenBucket:
        key = id(limit)
        if key not in shared:
            shared[key] = TokenBucket(limit, clock, sleep)
        return shared[key]

    return RateLimiter([bucket(x) for x in reads], [bucket(x) for x in writes])
