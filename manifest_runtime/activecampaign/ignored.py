"""Keys a target cannot use: reported, never dropped silently (issue 12).

An account reports each key it leaves out (`report_ignored(["deal.foo"])`); whoever runs the
target collects them for the record at hand (`with collecting() as keys: ...`): the pipeline
runner for the run summary and dead letters, `!resource` for the trace, `eval` for its
warnings. Collections nest (an inner one hands its keys to the outer one on exit) and are
per thread (a context variable), so concurrent records never mix their keys. A key reported
while nothing collects is dropped: every command that delivers collects.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar

_current: ContextVar[list[str] | None] = ContextVar("manifest_runtime_ignored", default=None)


def report_ignored(keys: Iterable[str]) -> None:
    collected = _current.get()
    if collected is not None:
        collected.extend(keys)


class collecting:  # lower case: used like a function, `with collecting() as keys:`
    """The keys reported inside the block (also handed to an enclosing collection). A plain
    class, not @contextmanager, which costs several times more: it runs for every record."""

    __slots__ = ("_keys", "_outer", "_token")

    def __enter__(self) -> list[str]:
        self._outer = _current.get()
        self._keys: list[str] = []
        self._token = _current.set(self._keys)
        return self._keys

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)
        if self._outer is not None:
            self._outer.extend(self._keys)


def describe_ignored(keys: Iterable[str]) -> list[str]:
    """One warning text per key: "ignored key 'deal.foo'" (a reason reported after the key,
    "_tags (there is no contact to tag)", follows the quoted key)."""
    out = []
    for key in keys:
        name, sep, why = key.partition(" (")
        out.append(f"ignored key {name!r}" + (f" ({why}" if sep else ""))
    return out


def ignored_warnings(keys: Iterable[str], record_no: int, item: int | None = None
                     ) -> list[str]:
    """The run summary's lines: "ignored key 'foo' on record 3" (item N of a fan-out)."""
    where = f"record {record_no}" + (f" item {item}" if item is not None else "")
    return [f"{text} on {where}" for text in describe_ignored(keys)]
