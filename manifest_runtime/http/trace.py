"""One trace event per HTTP attempt (URLs already redacted)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TraceEvent:
    method: str
    url: str  # redacted
    attempt: int  # 1-based
    elapsed_ms: float
    status: int | None = None
    error: str | None = None  # redacted
    purpose: str = "request"  # "request", "auth-refresh", "auth-verify", "page"
    replayed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "attempt": self.attempt,
                "elapsed_ms": round(self.elapsed_ms, 3), "status": self.status,
                "error": self.error, "purpose": self.purpose, "replayed": self.replayed}


TraceFn = Callable[[TraceEvent], None]
