"""Diagnostics and the exception tree. Every user-facing problem is a located value.

ManifestRuntimeError(Exception)      .diagnostic: Diagnostic
├── ManifestLoadError                the file cannot be read or parsed (code "load", "syntax", ...)
├── ManifestInvalid                  validation found errors: .diagnostics
└── EvaluationError                  a command or expansion failed at run time
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from .paths import Path, to_pointer

if TYPE_CHECKING:
    from .source import Place

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Span:
    """A 0-based [start, end) character range inside the string value at a path."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem (or note) at one place in a manifest."""

    code: str
    message: str
    path: Path = ()
    severity: Severity = "error"
    hint: str | None = None
    span: Span | None = None  # inside the string at `path` (expressions, jq programs)
    file: str | None = None
    line: int | None = None  # 1-based line of the node (or of the span) in the file
    column: int | None = None  # 1-based column in the file
    source_text: str | None = field(default=None, compare=False)  # the string `span` indexes
    notes: tuple[str, ...] = ()  # context lines, e.g. which !pipe step failed on what input
    # just after the last character pointed at (1-based; exclusive, as editors take ranges)
    end_line: int | None = None
    end_column: int | None = None
    snippet: str | None = field(default=None, compare=False)  # the source line of `line`

    @property
    def pointer(self) -> str:
        return to_pointer(self.path)

    def with_location(self, file: str | None, line: int | None, column: int | None) -> Diagnostic:
        return replace(self, file=file, line=line, column=column)

    def with_place(self, file: str | None, place: Place | None) -> Diagnostic:
        """This diagnostic located at `place` (a SourceMap's answer) in `file`."""
        if place is None:
            return replace(self, file=file)
        return replace(self, file=file, line=place.line, column=place.column,
                       end_line=place.end_line, end_column=place.end_column,
                       snippet=place.snippet)

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "pointer": self.pointer,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "hint": self.hint,
            **({"notes": list(self.notes)} if self.notes else {}),
        }


def sort_key(d: Diagnostic) -> tuple[str, int, int, int, str]:
    return (d.file or "", d.line or 0, d.column or 0, SEVERITY_ORDER[d.severity], d.code)


_CLOSE = 0.6  # difflib similarity from which a name counts as a misspelling


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None when nothing is close."""
    options = sorted(set(choices))
    import difflib  # on an error only (start-up)

    close = difflib.get_close_matches(name, options, n=1, cutoff=_CLOSE)
    if close:
        return f"did you mean '{close[0]}'?"
    return None


def misspelt_required(unknown: Iterable[str], missing: Iterable[str]) -> dict[str, str]:
    """Unknown keys of one object that look like misspellings of its missing required keys,
    as {unknown key: required key}. Pairs are as close as `did_you_mean` asks, the closest
    first; each unknown key and each required key is in at most one pair."""
    import difflib

    scored = sorted(
        ((-difflib.SequenceMatcher(None, want, key).ratio(), i, j, key, want)
         for i, key in enumerate(dict.fromkeys(unknown))
         for j, want in enumerate(dict.fromkeys(missing))),
    )
    out: dict[str, str] = {}
    for negative_ratio, _, _, key, want in scored:
        if -negative_ratio < _CLOSE:
            break
        if key not in out and want not in out.values():
            out[key] = want
    return out


def misspelt_required_hint(required: str) -> str:
    """The hint of an unknown key that stands for the missing required key `required`."""
    return f"did you mean {required!r}? ({required!r} is required)"


def choices_hint(name: str, choices: Iterable[str], what: str = "expected one of") -> str:
    options = sorted(set(choices))
    guess = did_you_mean(name, options)
    listing = f"{what}: {', '.join(options) or 'none'}"
    return f"{guess} ({listing})" if guess else listing


def describe(raw: object) -> str:
    """A short description of a raw value for messages: `a string ("abc")`, `an array`."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return f"a boolean ({str(raw).lower()})"
    if isinstance(raw, int | float):
        return f"a number ({raw})"
    if isinstance(raw, str):
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(raw, list):
        return "an array"
    return "an object"


class ManifestRuntimeError(Exception):
    """Base of every error a user can cause; carries one located Diagnostic."""

    exit_code = 1

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class ManifestLoadError(ManifestRuntimeError):
    """The manifest file cannot be read or parsed."""


class ManifestInvalid(ManifestRuntimeError):
    """Validation found errors; all of them are in `.diagnostics`."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        first = next(d for d in diagnostics if d.severity == "error")
        super().__init__(first)
        self.diagnostics = diagnostics


class EvaluationError(ManifestRuntimeError):
    """A command or expansion failed while running."""


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""

    exit_code = 2
