"""Why records failed, on screen: the first N dead letters grouped by error code, each as one
line (`line 7 [source]: jq: Cannot index string ...`), with how many more there are of each
code; and the same as JSON for `--format json`.

`Failures` collects from any thread (run's workers); it keeps the count per code and only
the first `keep` dead letters, so a million failures cost a dictionary, not a list."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Protocol

DEFAULT_SHOWN = 10
REASON_WIDTH = 110


class DeadLetterLike(Protocol):
    """What a dead letter has (pipeline.journal.DeadLetter)."""

    @property
    def record_no(self) -> int: ...
    @property
    def item(self) -> int | None: ...
    @property
    def stage(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def pointer(self) -> str: ...
    @property
    def hint(self) -> str | None: ...


class Failures:
    def __init__(self, keep: int = DEFAULT_SHOWN) -> None:
        self.keep = keep
        self.by_code: dict[str, int] = {}
        self.first: list[DeadLetterLike] = []
        self._lock = threading.Lock()

    def add(self, dead: Iterable[DeadLetterLike]) -> None:
        with self._lock:
            for d in dead:
                self.by_code[d.code] = self.by_code.get(d.code, 0) + 1
                if len(self.first) < self.keep:
                    self.first.append(d)

    @property
    def total(self) -> int:
        return sum(self.by_code.values())

    def render(self, where: str = "line", more: str = "") -> str:
        """The failures shown, grouped by code (most frequent first), each code with its
        count; `where` names a record's number ("line" for an input file, "result" for
        polling results); `more`: where the rest are."""
        if not self.by_code or self.keep == 0:
            return ""
        shown = len(self.first)
        head = (f"{self.total} failure{'s' if self.total != 1 else ''}"
                + (f", the first {shown} by error code:" if shown < self.total
                   else " by error code:"))
        lines = [head]
        order = sorted(self.by_code, key=lambda c: (-self.by_code[c], c))
        for code in order:
            mine = [d for d in self.first if d.code == code]
            count = self.by_code[code]
            rest = f", {count - len(mine)} not shown" if count > len(mine) else ""
            lines.append(f"  {code} ({count}{rest})")
            for d in mine:
                lines.append(f"    {_where(d, where)} [{d.stage}]: {one_line(d.message)}")
            hints = {d.hint for d in mine if d.hint}
            if len(hints) == 1:
                lines.append(f"    hint: {one_line(hints.pop())}")
        if more:
            lines.append(f"  {more}")
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        return {"by_code": dict(sorted(self.by_code.items(), key=lambda kv: (-kv[1], kv[0]))),
                "first": [{"record": d.record_no, "item": d.item, "stage": d.stage,
                           "code": d.code, "error": d.message, "pointer": d.pointer,
                           "hint": d.hint} for d in self.first]}


def _where(d: DeadLetterLike, noun: str) -> str:
    item = f" item {d.item}" if d.item is not None else ""
    return f"{noun} {d.record_no}{item}"


def one_line(text: str, width: int = REASON_WIDTH) -> str:
    """The first line of a message, whitespace folded, cut to `width` characters."""
    first = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return first if len(first) <= width else first[: width - 1] + "…"
