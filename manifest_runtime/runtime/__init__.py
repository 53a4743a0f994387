"""The evaluation engine: run compiled commands and expansions against an EvalContext."""

from __future__ import annotations

from .context import Env, EvalContext, TraceEvent
from .evaluate import evaluate, run_command
from .run import run_at
from .store import MemoryStore, Store

__all__ = ["Env", "EvalContext", "MemoryStore", "Store", "TraceEvent", "evaluate",
           "run_at", "run_command"]
