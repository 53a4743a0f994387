"""Retry policy: which outcomes are retried and how long to wait between attempts.

Retried: connect errors and timeouts, HTTP 429 and 5xx. Waits are exponential backoff with
full jitter (uniform in [0, min(cap, base * 2**(attempt-1))]); a `Retry-After` header (seconds
or an HTTP date) replaces the computed wait, bounded by `max_retry_after`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429})


def is_retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES or 500 <= status <= 599


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 300.0
    random: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempt: int, retry_after: str | None = None, now: float = 0.0) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        honoured = parse_retry_after(retry_after, now) if retry_after else None
        if honoured is not None:
            return min(honoured, self.max_retry_after)
        return self.random() * min(self.cap, self.base * 2.0 ** (attempt - 1))


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds from a Retry-After value: delta-seconds or an HTTP date (relative to `now`,
    epoch seconds). None when unparseable."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - now)
