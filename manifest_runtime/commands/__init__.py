"""The command registry: every `!name` a manifest may use, as a plain dict.

`COMMANDS` is built (every command's module imported) on first use, by the compiler: a
compiled manifest (compiled_cache.py) brings only the modules of the commands it uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .base import CommandSpec

if TYPE_CHECKING:
    COMMANDS: dict[str, CommandSpec]

_MODULES = ("pipe", "http", "jq", "switch", "save", "error", "print_c", "extract", "resource",
            "sha", "respond")


def __getattr__(name: str) -> Any:
    if name != "COMMANDS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    specs = (import_module(f".{m}", __name__).SPEC for m in _MODULES)
    registry: dict[str, CommandSpec] = {spec.name: spec for spec in specs}
    globals()["COMMANDS"] = registry
    return registry


__all__ = ["COMMANDS", "CommandSpec"]
