"""Render diagnostics for people (text: the source line, an underline, colour on a terminal)
and machines (JSON per DESIGN §5).

A located diagnostic shows its source line with the offending part underlined:

    m.yaml:11:5: error[unknown-key]: unknown key 'labl'
      at /workflows/0/labl
       11 |     labl: Twilio - Send an SMS
          |     ^^^^
      hint: did you mean 'label'? ('label' is required)

A place inside a string that does not map onto the file (a string with escapes, a multi-line
block) shows the string itself with the caret instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from .errors import Diagnostic

if TYPE_CHECKING:
    from rich.text import Text

LABEL = {"error": "error", "warning": "warning", "info": "note"}
STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}
EXCERPT = 100  # characters of a long line shown around the caret


def use_color(stream: TextIO) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render_text(diagnostics: Sequence[Diagnostic], *, color: bool = False) -> str:
    return "".join(render_one(d, color=color) for d in diagnostics)


def render_one(d: Diagnostic, *, color: bool = False) -> str:
    """One diagnostic as text; `color`: with ANSI colours (through rich)."""
    parts = _parts(d)
    if not color:
        return "".join(text for text, _ in parts)
    from rich.text import Text

    return _ansi(Text.assemble(*parts))


Part = tuple[str, str]  # (text, rich style; "" for none)


def _parts(d: Diagnostic) -> list[Part]:
    where = d.file or "<manifest>"
    if d.line is not None:
        where += f":{d.line}"
        if d.column is not None:
            where += f":{d.column}"
    style = STYLE[d.severity]
    out: list[Part] = [(f"{where}: ", "bold"), (f"{LABEL[d.severity]}[{d.code}]", style),
                       (f": {d.message}\n", "bold")]
    if d.path:
        out.append((f"  at {d.pointer}\n", "dim"))
    elif d.file and d.line is None:
        # RFC 6901: the whole document is the pointer '' ('/' is the key "")
        out.append(("  at '' (the whole manifest)\n", "dim"))
    out.extend(_source_lines(d, style))
    out.extend((f"  note: {note}\n", "") for note in d.notes)
    if d.hint:
        out.extend([("  hint", "bold green"), (f": {d.hint}\n", "")])
    return out


def _source_lines(d: Diagnostic, style: str) -> list[Part]:
    """The source line with the place underlined, else the string with a caret."""
    if d.snippet is not None and d.line is not None and d.column is not None:
        line = d.snippet.replace("\t", " ")
        col = d.column - 1
        if d.end_line == d.line and d.end_column is not None:
            width = d.end_column - d.column
        else:  # runs over several lines: underline the rest of this one
            width = len(line.rstrip()) - col
        shown, col, width = _window(line, col, max(1, width))
        gutter = str(d.line)
        pad = " " * len(gutter)
        return [(f"  {gutter} | ", "dim"), (f"{shown}\n", ""),
                (f"  {pad} | ", "dim"), (f"{' ' * col}{'^' * width}\n", style)]
    if d.span is None or d.source_text is None:
        return []
    text = d.source_text
    start = min(d.span.start, len(text))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    col = start - line_start
    width = max(1, min(d.span.end, line_start + len(line)) - start)
    shown, col, width = _window(line, col, width)
    return [("    | ", "dim"), (f"{shown}\n", ""),
            ("    | ", "dim"), (f"{' ' * col}{'^' * width}\n", style)]


def _window(line: str, col: int, width: int) -> tuple[str, int, int]:
    """A long line cut to EXCERPT characters around the caret: (shown, col, width)."""
    if len(line) <= EXCERPT:
        return line, col, max(1, min(width, len(line) - col + 1))
    cut = max(0, min(col - EXCERPT // 2, len(line) - EXCERPT))
    before = "..." if cut else ""
    after = "..." if cut + EXCERPT < len(line) else ""
    shown = before + line[cut : cut + EXCERPT]
    col = col - cut + len(before)
    width = max(1, min(width, len(shown) - col))  # the span may run past the excerpt
    return shown + after, col, width


def _ansi(text: Text) -> str:
    from rich.console import Console

    console = Console(color_system="standard", force_terminal=True, width=1_000_000,
                      highlight=False, soft_wrap=True)
    with console.capture() as capture:
        console.print(text, end="")
    return capture.get()


def summary(file: str, diagnostics: Sequence[Diagnostic], valid: bool, *,
            notes: bool = True, color: bool = False) -> str:
    """`file: valid (0 errors, 2 warnings, 9 notes)`; without the notes' count when they
    were not asked for (`notes` False)."""
    counts = {s: sum(1 for d in diagnostics if d.severity == s) for s in LABEL}
    status = "valid" if valid else "invalid"
    shown = f", {counts['info']} note{_s(counts['info'])}" if notes else ""
    parts: list[Part] = [(f"{file}: ", "bold"), (status, "bold green" if valid else "bold red"),
                         (f" ({counts['error']} error{_s(counts['error'])}, "
                          f"{counts['warning']} warning{_s(counts['warning'])}{shown})", "")]
    if not color:
        return "".join(text for text, _ in parts)
    from rich.text import Text

    return _ansi(Text.assemble(*parts))


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def render_json(diagnostics: Sequence[Diagnostic], valid: bool) -> str:
    return json.dumps(
        {"valid": valid, "diagnostics": [d.as_json() for d in diagnostics]}, indent=2
    )
