"""RFC 6901 JSON pointers: `from_pointer` and `to_pointer`."""

from __future__ import annotations

import pytest

from manifest_runtime.paths import Path, from_pointer, to_pointer

POINTERS: list[tuple[str, Path]] = [
    ("", ()),  # the whole document
    ("/", ("",)),  # the key "" (not the root)
    ("//", ("", "")),
    ("/workflows/0/data_pipeline/source", ("workflows", 0, "data_pipeline", "source")),
    ("/a/10", ("a", 10)),
    ("/a/00", ("a", "00")),  # leading zeros: never an array index
    ("/a/01", ("a", "01")),
    ("/a/-", ("a", "-")),
    ("/a/1.5", ("a", "1.5")),
    ("/a/\u0661", ("a", "\u0661")),  # a non-ASCII digit is a key
    ("/a~1b/c~0d", ("a/b", "c~d")),
    ("/~01", ("~1",)),  # '~0' then '1', not '~' then '~1'
    ("/!pipe/1/!switch", ("!pipe", 1, "!switch")),
]


@pytest.mark.parametrize(("pointer", "path"), POINTERS)
def test_from_pointer(pointer: str, path: Path) -> None:
    assert from_pointer(pointer) == path


@pytest.mark.parametrize(("pointer", "path"), POINTERS)
def test_to_pointer_round_trips(pointer: str, path: Path) -> None:
    assert to_pointer(path) == pointer


@pytest.mark.parametrize(("pointer", "fragment"), [
    ("a/b", "starts with '/'"),
    ("/a~2", "'~2'"),
    ("/a~", "'~'"),
    ("/~x/b", "'~x'"),
])
def test_malformed_pointer(pointer: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        from_pointer(pointer)
    assert fragment in str(info.value)
