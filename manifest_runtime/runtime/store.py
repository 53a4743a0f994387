"""Where `!save` keeps data: one key/value object per scope (`${data.<scope>.<key>}`)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol


class Store(Protocol):
    def get_all(self, scope: str) -> dict[str, Any]:
        """Everything saved at `scope` (a copy the caller may keep)."""
        ...

    def merge(self, scope: str, values: dict[str, Any]) -> None:
        """Merge keys into the scope's object: new keys added, existing keys replaced,
        other keys kept."""
        ...


@dataclass
class MemoryStore:
    """A Store in a dict (tests, `eval` without --state)."""

    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get_all(self, scope: str) -> dict[str, Any]:
        return copy.deepcopy(self.scopes.get(scope, {}))

    def merge(self, scope: str, values: dict[str, Any]) -> None:
        self.scopes.setdefault(scope, {}).update(copy.deepcopy(values))
