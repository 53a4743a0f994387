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
    if d.path or d.file:
        lines.append(f"  at {d.pointer or '/'}")
    lines.extend(_caret(d))
    lines.extend(f"  note: {note}" for note in d.notes)
    if d.hint:
        lines.append(f"  hint: {d.hint}")
    return "\n".join(lines) + "\n"


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
    if len(line) > 100:  # keep the caret in view on long programs
        cut = max(0, col - 50)
        line = ("..." if cut else "") + line[cut : cut + 100]
        col = col - cut + (3 if cut else 0)
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
