"""Manifest paths: tuples of keys and indices, rendered as RFC 6901 JSON pointers."""

from __future__ import annotations

Path = tuple[str | int, ...]

ROOT: Path = ()


def to_pointer(path: Path) -> str:
    """Render a path as an RFC 6901 JSON pointer: ``("a", 0, "b/c")`` -> ``/a/0/b~1c``."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def from_pointer(pointer: str) -> Path:
    """Parse a JSON pointer; numeric segments become ints. Raises ValueError when malformed."""
    if pointer in ("", "/"):
        return ROOT
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/': {pointer!r}")
    parts: list[str | int] = []
    for raw in pointer[1:].split("/"):
        text = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(text) if text.isdigit() else text)
    return tuple(parts)
