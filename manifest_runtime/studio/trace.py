"""The trace panel's log: every command the page triggered (its input, expanded arguments
and output, or its error), every HTTP attempt, the trace blocks of the records a run sent,
and warnings; grouped under the page action that caused them. Everything is redacted before
it is kept (the redactor of the client that ran it), so no secret reaches the page."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..paths import to_pointer

if TYPE_CHECKING:
    from ..http.trace import TraceEvent as AttemptEvent
    from ..runtime.context import TraceEvent as CommandEvent

LIMIT = 2000  # entries kept; the oldest go first
VALUE_LIMIT = 4000  # characters of one shown value


@dataclass(frozen=True)
class Entry:
    id: int
    action: str  # the page action that caused it ("connect", "options of group", "run", ...)
    kind: str  # command | http | text | warning
    title: str
    detail: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "kind": self.kind, "title": self.title,
                "detail": self.detail}


def shown(value: Any, limit: int = VALUE_LIMIT) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, default=repr, indent=1)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TraceLog:
    def __init__(self, limit: int = LIMIT) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.action = "page"

    def _add(self, kind: str, title: str, detail: dict[str, str] | None = None) -> None:
        with self._lock:
            self._entries.append(Entry(next(self._ids), self.action, kind, title, detail or {}))

    def command(self, event: CommandEvent, redact: Callable[[Any], Any]) -> None:
        detail = {"input": shown(redact(event.input))}
        for name, value in event.args.items():
            detail[name] = shown(redact(value))
        if event.error is not None:
            detail["error"] = str(redact(event.error))
        else:
            detail["output"] = shown(redact(event.output))
        where = to_pointer(event.path) or "''"
        self._add("command", f"{where} {event.command}", detail)

    def attempt(self, event: AttemptEvent) -> None:  # URL and error already redacted
        outcome = f"{event.status}" if event.error is None else f"failed: {event.error}"
        purpose = "" if event.purpose == "request" else f" [{event.purpose}]"
        replayed = " (replayed)" if event.replayed else ""
        self._add("http", f"{event.method} {event.url} attempt {event.attempt}{purpose} -> "
                  f"{outcome} in {event.elapsed_ms:.1f} ms{replayed}")

    def text(self, title: str, block: str) -> None:
        self._add("text", title, {"trace": block})

    def warning(self, message: str) -> None:
        self._add("warning", message)

    def since(self, after: int) -> list[Entry]:
        with self._lock:
            return [e for e in self._entries if e.id > after]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
