"""Run a program on both engines and say how they differ (None: they agree)."""

from __future__ import annotations

import json
from typing import Any

import jq

from manifest_runtime.jqfast import values as V
from manifest_runtime.jqfast.compile import Fn
from manifest_runtime.jqfast.program import compile_closures


def libjq_result(program: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", program.input_value(value).all()
    except ValueError as exc:
        return "error", str(exc)


def fast_result(fn: Fn, value: Any) -> tuple[str, Any]:
    out: list[Any] = []
    try:
        fn.emit(value, {}, out)
        return "ok", [V.canon(x) for x in out]
    except V.JqError:
        return "error", None
    except V.Fallback:
        return "fallback", None


def exact(outputs: list[Any]) -> str:
    """Outputs as text that tells 1 from 1.0 from true, and keeps key order."""
    return json.dumps(outputs, ensure_ascii=False)


class Pair:
    """A program compiled on both engines (fast is None: outside the subset)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.libjq = jq.compile(text)
        self.fast = compile_closures(text)

    def compare(self, value: Any) -> tuple[str, str | None]:
        """(what the fast path did: ok, error, fallback or libjq; the difference or None)."""
        if self.fast is None:
            return "libjq", None
        lib_kind, lib = libjq_result(self.libjq, value)
        kind, fast = fast_result(self.fast, value)
        if kind == "fallback":
            return kind, None
        if kind != lib_kind:
            return kind, f"libjq {lib_kind} {lib!r}, fast path {kind} {fast!r}"
        if kind == "ok" and exact(fast) != exact(lib):
            return kind, f"libjq {exact(lib)}, fast path {exact(fast)}"
        return kind, None
