"""Frozen record classes that cost nothing to define.

`@dataclass(frozen=True)` builds each class's methods from source text with `exec` when the
class is defined: about 0.5-0.8 ms a class on Python 3.11, paid at every start of the program
(20 classes of the jq fast path's syntax tree took 15 ms of a ~100 ms start). `Frozen` gives
the same record behaviour with methods written once, here, and read from the class's field
list:

* the fields are the class's annotations in order (a base class's first), `ClassVar`s
  excepted; a field with a class-level value has it as its default;
* `__init__` takes them positionally or by name; `__eq__` compares fields of the same class;
  `__hash__` hashes them; `__repr__` is dataclasses' (`Index(target=..., key=..., opt=False)`);
  `__match_args__` makes `case Index(target, key):` work;
* assigning or deleting an attribute raises `dataclasses.FrozenInstanceError`.

Type checkers see it as a frozen dataclass (PEP 681 `dataclass_transform`). `fields_of(obj)`
lists an instance's field names (what `dataclasses.fields` would), `replaced(obj, **changes)`
is `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, TypeVar, dataclass_transform

_MISSING: Any = object()
R = TypeVar("R", bound="Frozen")


@dataclass_transform(frozen_default=True)
class Frozen:
    """Base of frozen records (see the module's docstring)."""

    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # the class's own annotations (inspect.get_annotations would cost importing inspect)
        annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        own = [name for name, kind in annotations.items()
               if not str(kind).startswith(("ClassVar", "typing.ClassVar"))]
        defaults = dict(cls._defaults)
        for name in own:
            value = cls.__dict__.get(name, _MISSING)
            if value is not _MISSING:
                defaults[name] = value
                delattr(cls, name)  # the instance's value, not a class attribute, is read
        fields = cls._fields + tuple(n for n in own if n not in cls._fields)
        seen_default = False
        for name in fields:
            if name in defaults:
                seen_default = True
            elif seen_default:
                raise TypeError(f"{cls.__name__}: non-default field {name!r} follows a "
                                "default one")
        cls._fields = fields
        cls._defaults = defaults
        cls.__match_args__ = fields  # type: ignore[misc]  # `case Index(target, key):`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} arguments, "
                            f"{len(args)} given")
        values = dict(zip(fields, args, strict=False))
        for name, value in kwargs.items():
            if name not in fields:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument "
                                f"{name!r}")
            if name in values:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument "
                                f"{name!r}")
            values[name] = value
        if len(values) < len(fields):
            for name in fields:
                if name not in values:
                    if name not in self._defaults:
                        raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
                    values[name] = self._defaults[name]
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        d = self.__dict__
        return tuple(d[name] for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Frozen)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        d = self.__dict__
        inner = ", ".join(f"{name}={d[name]!r}" for name in self._fields)
        return f"{type(self).__qualname__}({inner})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickling: rebuilt through __init__
        return (type(self), self._values())


def fields_of(record: Frozen) -> tuple[str, ...]:
    """The field names of a `Frozen` record, in order."""
    return record._fields


def replaced(record: R, **changes: Any) -> R:
    """A copy of `record` with `changes` (`dataclasses.replace`)."""
    values = dict(zip(record._fields, record._values(), strict=True))
    values.update(changes)
    return type(record)(**values)
