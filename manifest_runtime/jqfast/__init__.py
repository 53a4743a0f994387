"""The jq fast path: the common subset of jq compiled once into Python closures over Python
values, with libjq (the `jq` binding) for everything else. See docs/performance.md.

    program = compile_program(".body | {id, name: .full_name}")
    program.input_value({"body": {...}}).all()

`compile_program` returns a FastProgram when the whole program is in the subset, otherwise the
libjq program itself; both have the binding's `input_value(v).all()` / `.first()`. The engine
is `fast` unless `--jq-engine libjq` or MANIFEST_RUNTIME_JQ_ENGINE=libjq says otherwise.
"""

from __future__ import annotations

import os
from typing import Any

from .program import FastProgram, compile_fast

ENGINES = ("fast", "libjq")
ENV_VAR = "MANIFEST_RUNTIME_JQ_ENGINE"
_chosen: list[str] = []  # set by the CLI's --jq-engine (the last call wins)


def choose_engine(name: str | None) -> None:
    """Use `name` ("fast" or "libjq") for programs compiled from now on; None: the default."""
    if name is not None and name not in ENGINES:
        raise ValueError(f"unknown jq engine {name!r} (expected one of {', '.join(ENGINES)})")
    _chosen[:] = [name] if name else []


def engine() -> str:
    if _chosen:
        return _chosen[0]
    name = os.environ.get(ENV_VAR, "").strip().lower()
    return name if name in ENGINES else "fast"


def compile_program(text: str, engine_name: str | None = None) -> Any:
    """Compile with libjq (so its syntax errors surface as ValueError, as before), then on the
    fast path when the engine is `fast` and the program is in the subset."""
    import jq

    libjq = jq.compile(text)
    if (engine_name or engine()) != "fast":
        return libjq
    fast = compile_fast(text, libjq)
    return libjq if fast is None else fast


__all__ = ["ENGINES", "ENV_VAR", "FastProgram", "choose_engine", "compile_fast",
           "compile_program", "engine"]
