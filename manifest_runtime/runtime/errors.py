"""Runtime error helpers: short excerpts of values and source locations for diagnostics."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, EvaluationError

if TYPE_CHECKING:
    from ..source import SourceMap


class PipeStepError(EvaluationError):
    """An error inside a pipe step, already annotated with the step by the innermost pipe."""


def excerpt(value: Any, limit: int = 200) -> str:
    """Compact JSON text of a value, cut to `limit` characters."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def with_location(diagnostic: Diagnostic, source: SourceMap) -> Diagnostic:
    """Fill file/line/column from the manifest's source map (span-precise when possible)."""
    if diagnostic.line is not None:
        return diagnostic
    span = diagnostic.span
    place = source.place(diagnostic.path, span=(span.start, span.end) if span else None)
    return diagnostic.with_place(diagnostic.file or source.file, place)


def fail(code: str, message: str, *, hint: str | None = None) -> EvaluationError:
    """An unlocated EvaluationError (the command boundary adds the command's path)."""
    return EvaluationError(Diagnostic(code=code, message=message, hint=hint))
