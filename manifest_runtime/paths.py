"""Manifest paths: tuples of keys and indices, rendered as RFC 6901 JSON pointers."""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

ROOT: Path = ()


def to_pointer(path: Path) -> str:
    """Render a path as an RFC 6901 JSON pointer: ``("a", 0, "b/c")`` -> ``/a/0/b~1c``."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def from_pointer(pointer: str) -> Path:
    """Parse an RFC 6901 JSON pointer. ``""`` is the whole document and ``"/"`` the key ``""``;
    a segment that is an array index (``0``, ``12``; no leading zeros) becomes an int, any
    other (``00``, ``-``, ``x``) stays a key. Raises ValueError when malformed (no leading
    ``/``, or a ``~`` not followed by ``0`` or ``1``)."""
    if pointer == "":
        return ROOT
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/': {pointer!r}")
    parts: list[str | int] = []
    for raw in pointer[1:].split("/"):
        bad = _BAD_TILDE.search(raw)
        if bad:
            raise ValueError(f"'~' must be followed by 0 or 1 ('~0' is '~', '~1' is '/'): "
                             f"{bad.group()!r} in {pointer!r}")
        text = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(text) if _INDEX.fullmatch(text) else text)
    return tuple(parts)


_BAD_TILDE = re.compile(r"~(?:[^01]|$)")
_INDEX = re.compile(r"0|[1-9][0-9]*")
