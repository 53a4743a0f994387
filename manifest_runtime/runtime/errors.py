"""Runtime error helpers: short excerpts of values and source locations for diagnostics."""

from __future__ import annotations

import json
from dataclasses import replace
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
    if diagnostic.span is not None:
        pos = source.locate_in_string(diagnostic.path, diagnostic.span.start)
    else:
        pos = source.locate(diagnostic.path)
    line, column = pos if pos else (None, None)
    return replace(diagnostic, file=diagnostic.file or source.file, line=line, column=column)


def fail(code: str, message: str, *, hint: str | None = None) -> EvaluationError:
    """An unlocated EvaluationError (the command boundary adds the command's path)."""
    return EvaluationError(Diagnostic(code=code, message=message, hint=hint))
