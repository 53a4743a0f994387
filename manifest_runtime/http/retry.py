"""Retry policy: which outcomes are retried and how long to wait between attempts.

Retried: connect errors and timeouts, HTTP 429 and 5xx (DESIGN §4). For methods that are not
idempotent (POST, PATCH) a retry could repeat an action the server already took (a second SMS),
so they are retried only when the request surely was not acted on: it never left (connect
error, connect or pool timeout), or the server said so (429, 503, or any 5xx with
`Retry-After`); `retry_unsafe` retries them like the rest. Waits are exponential backoff with
full jitter (uniform in [0, min(cap, base * 2**(attempt-1))]); a `Retry-After` header (seconds,
decimals allowed, or an HTTP date) replaces the computed wait; when it asks for more than
`max_retry_after`, there is no retry (waiting less would fail again).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

RETRY_STATUSES = frozenset({429})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
NOT_ACTED_ON = frozenset({429, 503})  # statuses that say the request was not processed


def is_retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES or 500 <= status <= 599


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 300.0
    retry_unsafe: bool = False  # retry POST/PATCH like idempotent methods
    random: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def retries_status(self, method: str, status: int, headers: dict[str, str]) -> bool:
        """Is a response with this status worth another attempt of this method?"""
        if not is_retryable_status(status):
            return False
        if self.retry_unsafe or method.upper() in IDEMPOTENT:
            return True
        return status in NOT_ACTED_ON or "retry-after" in headers

    def retries_failure(self, method: str, request_left: bool) -> bool:
        """Is a transport failure worth another attempt? `request_left`: the request may have
        reached the server (read timeout, dropped connection), not just a connect error."""
        return not request_left or self.retry_unsafe or method.upper() in IDEMPOTENT

    def delay(self, attempt: int, retry_after: str | None = None, now: float = 0.0
              ) -> float | None:
        """Seconds to wait after failed attempt number `attempt` (1-based); None when the
        server's Retry-After asks for longer than `max_retry_after` (do not retry)."""
        honoured = parse_retry_after(retry_after, now) if retry_after else None
        if honoured is not None:
            return honoured if honoured <= self.max_retry_after else None
        return self.random() * min(self.cap, self.base * 2.0 ** (attempt - 1))


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds from a Retry-After value: delta-seconds or an HTTP date (relative to `now`,
    epoch seconds). None when unparseable."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None  # NaN, negative: no
    from email.utils import parsedate_to_datetime  # an HTTP date: rare (start-up)

    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - now)
