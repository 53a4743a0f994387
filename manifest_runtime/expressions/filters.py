"""Expansion filters: plain functions `(value, arg) -> value`; FILTERS is the registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .nodes import Missing


def default(value: Any, arg: Any) -> Any:
    """`| default:x` replaces a missing value (not null, not "") with x; bare `| default`: ""."""
    if value is Missing:
        return "" if arg is Missing else arg
    return value


FILTERS: dict[str, Callable[[Any, Any], Any]] = {"default": default}
