"""Parsed forms of strings that may hold `${...}` expansions (frozen, built once per load)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Span

# the roots an expansion may start from (`${custom_data.x}`, ...)
ROOTS = (
    "custom_data",
    "piped_content",
    "webhook",
    "data",
    "polling_state",
    "subdomain",
    "resource",
)
SAVE_SCOPES = ("workflow", "connection", "application")  # `${data.SCOPE...}`, `!save` scope


class _MissingType:
    """The value of a reference that resolves to nothing (distinct from JSON null)."""

    _instance: _MissingType | None = None

    def __new__(cls) -> _MissingType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Missing"

    def __bool__(self) -> bool:
        return False


Missing = _MissingType()

Segment = str | int  # `.name` / `.0` are strings (an index when the value is a list); `[0]` an int


@dataclass(frozen=True, slots=True)
class FilterCall:
    name: str
    arg: object  # a JSON scalar, or Missing when no argument was written
    span: Span


@dataclass(frozen=True, slots=True)
class Expansion:
    """One `${root.path | filter:arg}`; `span` covers `${` through `}` in the whole string."""

    root: str
    path: tuple[Segment, ...]
    filters: tuple[FilterCall, ...]
    span: Span
    text: str  # the source text, `${...}` included

    @property
    def has_default(self) -> bool:
        return any(f.name == "default" for f in self.filters)

    def dotted(self) -> str:
        """`custom_data.folder.value` (for messages)."""
        out = self.root
        for seg in self.path:
            out += f"[{seg}]" if isinstance(seg, int) else f".{seg}"
        return out


@dataclass(frozen=True, slots=True)
class Template:
    """A string split into literal text and expansions. `parts` alternate freely."""

    source: str
    parts: tuple[str | Expansion, ...]

    @property
    def single(self) -> Expansion | None:
        """The expansion when the whole string is exactly one `${...}` (native typing)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Expansion):
            return self.parts[0]
        return None

    @property
    def expansions(self) -> tuple[Expansion, ...]:
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return ()  # plain text: most strings of a manifest
        return tuple(p for p in self.parts if isinstance(p, Expansion))
