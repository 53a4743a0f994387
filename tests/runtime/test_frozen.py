"""`Frozen` records behave as `@dataclass(frozen=True)` ones: the same class written both ways
gives the same construction, errors, equality, hashing, repr, matching, copies and pickling."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any, ClassVar

import pytest

from manifest_runtime.frozen import Frozen, fields_of, replaced


class Point(Frozen):
    x: int
    y: int = 0
    kind: ClassVar[str] = "point"


class Labelled(Point):
    label: str = ""


@dataclasses.dataclass(frozen=True)
class DPoint:
    x: int
    y: int = 0
    kind: ClassVar[str] = "point"


@dataclasses.dataclass(frozen=True)
class DLabelled(DPoint):
    label: str = ""


PAIRS = [(Point, DPoint), (Labelled, DLabelled)]
CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((1,), {}), ((1, 2), {}), ((), {"x": 1, "y": 2}), ((1,), {"y": 5}),
]


def outcome(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        made = cls(*args, **kwargs)
    except TypeError:
        return TypeError
    return tuple(getattr(made, n) for n in ("x", "y", "label") if hasattr(made, n))


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
@pytest.mark.parametrize(("args", "kwargs"), [
    *CALLS, ((), {}), ((1, 2, "a", 4), {}), ((1,), {"x": 2}), ((1,), {"z": 2})])
def test_construction_matches_dataclasses(ours: Any, theirs: Any, args: tuple[Any, ...],
                                          kwargs: dict[str, Any]) -> None:
    assert outcome(ours, args, kwargs) == outcome(theirs, args, kwargs)


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_records_compare_hash_and_print_as_dataclasses(ours: Any, theirs: Any) -> None:
    for args, kwargs in CALLS:
        a, b = ours(*args, **kwargs), theirs(*args, **kwargs)
        assert repr(a).replace(ours.__name__, "X") == repr(b).replace(theirs.__name__, "X")
        assert a == ours(*args, **kwargs) and hash(a) == hash(ours(*args, **kwargs))
        assert a != ours(99) and a != b  # another class is never equal
        assert fields_of(a) == tuple(f.name for f in dataclasses.fields(b))
        assert fields_of(replaced(a, y=7)) == fields_of(a)
        assert repr(replaced(a, y=7)).replace(ours.__name__, "X") == \
            repr(dataclasses.replace(b, y=7)).replace(theirs.__name__, "X")
        assert pickle.loads(pickle.dumps(a)) == a
    assert ours.kind == "point"  # a ClassVar stays a class attribute, not a field


def test_records_are_frozen_and_match_by_position() -> None:
    p = Labelled(1, 2, "a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.y
    match p:
        case Labelled(x, y, label):
            assert (x, y, label) == (1, 2, "a")
        case _:
            pytest.fail("no match")


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="follows a default"):
        class Bad(Frozen):
            a: int = 0
            b: int  # type: ignore[misc]
