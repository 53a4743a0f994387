"""Render diagnostics for people (text with carets) and machines (JSON per DESIGN §5)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .errors import Diagnostic

LABEL = {"error": "error", "warning": "warning", "info": "note"}


def render_text(diagnostics: Sequence[Diagnostic]) -> str:
    return "".join(render_one(d) for d in diagnostics)


def render_one(d: Diagnostic) -> str:
    where = d.file or "<manifest>"
    if d.line is not None:
        where += f":{d.line}"
        if d.column is not None:
            where += f":{d.column}"
    lines = [f"{where}: {LABEL[d.severity]}[{d.code}]: {d.message}"]
    if d.path:
        lines.append(f"  at {d.pointer}")
    elif d.file and d.line is None:
        # RFC 6901: the whole document is the pointer '' ('/' is the key "")
        lines.append("  at '' (the whole manifest)")
    lines.extend(_caret(d))
    lines.extend(f"  note: {note}" for note in d.notes)
    if d.hint:
        lines.append(f"  hint: {d.hint}")
    return "\n".join(lines) + "\n"


EXCERPT = 100  # characters of a long line shown around the caret


def _caret(d: Diagnostic) -> list[str]:
    if d.span is None or d.source_text is None:
        return []
    text = d.source_text
    start = min(d.span.start, len(text))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    col = start - line_start
    width = max(1, min(d.span.end, line_start + len(line)) - start)
    if len(line) > EXCERPT:  # keep the caret in view on long programs
        cut = max(0, min(col - EXCERPT // 2, len(line) - EXCERPT))
        before = "..." if cut else ""
        after = "..." if cut + EXCERPT < len(line) else ""
        shown = before + line[cut : cut + EXCERPT]
        col = col - cut + len(before)
        width = max(1, min(width, len(shown) - col))  # the span may run past the excerpt
        line = shown + after
    return [f"    | {line}", f"    | {' ' * col}{'^' * width}"]


def summary(file: str, diagnostics: Sequence[Diagnostic], valid: bool) -> str:
    counts = {s: sum(1 for d in diagnostics if d.severity == s) for s in LABEL}
    status = "valid" if valid else "invalid"
    return (f"{file}: {status} ({counts['error']} error{_s(counts['error'])}, "
            f"{counts['warning']} warning{_s(counts['warning'])}, "
            f"{counts['info']} note{_s(counts['info'])})")


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def render_json(diagnostics: Sequence[Diagnostic], valid: bool) -> str:
    return json.dumps(
        {"valid": valid, "diagnostics": [d.as_json() for d in diagnostics]}, indent=2
    )
