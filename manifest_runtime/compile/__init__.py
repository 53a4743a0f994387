"""Compilation: raw manifest data -> frozen nodes + every diagnostic, in one package.

* `walk.py`      load a file and walk it section by section, each value in its Scope;
* `compiler.py`  the Compiler: values, commands, templates, located diagnostics;
* `roots.py`     every root and scope rule: which `${root}` exists where, and why not;
* `schema.py`    JSON Schema errors -> diagnostics with did-you-mean hints;
* `checks.py`    semantic checks (names, references, inbound/polling requirements);
* `passes/`      post-compile passes (the `!http` output shape).

`compile_manifest(loaded, commands=...)`, `load_and_compile(filename)` and `compile_value(raw,
path, scope, source)` (one value, e.g. a test case) are the entry points.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..errors import Diagnostic
    from .compiler import Compiler
    from .roots import FieldInfo, Scope
    from .walk import compile_manifest, compile_value, field_infos, load_and_compile

# The entry points load with their first use, not with the package: the runtime imports
# `compile.roots` (scope rules) without compiling anything, e.g. with a compiled manifest from
# the cache (compiled_cache.py).
_WHERE = {"Diagnostic": "..errors", "Compiler": ".compiler", "FieldInfo": ".roots",
          "Scope": ".roots", "compile_manifest": ".walk", "compile_value": ".walk",
          "field_infos": ".walk", "load_and_compile": ".walk"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name], __name__), name)


__all__ = [
    "Compiler",
    "Diagnostic",
    "FieldInfo",
    "Scope",
    "compile_manifest",
    "compile_value",
    "field_infos",
    "load_and_compile",
]
