"""Evaluate compiled nodes: constants, templates, containers and commands.

`evaluate(node, value, ctx)` is the one entry point. A command runs through a boundary that
turns any foreign exception into an `EvaluationError` located at the command (and locates an
unlocated `EvaluationError` there); an error that already has a location keeps it, so the
innermost location wins.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, EvaluationError
from ..expressions.evaluate import evaluate_template
from ..model import Arr, Command, Const, Obj, Tmpl
from .context import EvalContext, TraceEvent

if TYPE_CHECKING:
    from ..model import Node, RunFn


def _runner(command: Command) -> RunFn:
    """The run step the compiler bound into the command (from the registry it compiled with)."""
    if command.run is None:
        raise EvaluationError(Diagnostic(
            code="not-runnable", message=f"{command.name} cannot run (no run function)",
            path=command.path, hint="the command registry the manifest was compiled with "
            "gives this command no run step"))
    return command.run


def evaluate(node: Node, value: Any, ctx: EvalContext) -> Any:
    """The value of a compiled node for `value` (a command's input) in `ctx`. Never mutates."""
    if isinstance(node, Command):
        return run_command(node, value, ctx)
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Tmpl):
        return evaluate_template(node.template, ctx.roots(), node.path)
    if isinstance(node, Obj):
        return {k: evaluate(v, value, ctx) for k, v in node.items.items()}
    if isinstance(node, Arr):
        return [evaluate(v, value, ctx) for v in node.items]
    raise TypeError(f"not a compiled node: {node!r}")


def evaluate_optional(node: Node | None, value: Any, ctx: EvalContext, default: Any = None
                      ) -> Any:
    return default if node is None else evaluate(node, value, ctx)


# failures of the machine rather than of a command: they stop a run instead of failing one
# record after another (a locked or full state file would dead-letter every record)
SYSTEM_ERRORS = (sqlite3.Error, MemoryError)


def run_command(command: Command, value: Any, ctx: EvalContext) -> Any:
    """Run one command on `value`, translating failures into located EvaluationErrors."""
    if command.node is None:
        raise EvaluationError(Diagnostic(
            code="not-compiled", message=f"{command.name} did not compile, so it cannot run",
            path=command.path, hint="run `manifest-runtime validate` and fix the errors"))
    if ctx.env.trace is not None:
        return _traced(command, value, ctx)
    try:
        return _runner(command)(command.node, value, ctx)
    except EvaluationError as exc:
        raise _located(exc, command) from None
    except SYSTEM_ERRORS:  # the state file or the machine failed, not this command
        raise
    except Exception as exc:
        raise _foreign(exc, command) from exc


def _traced(command: Command, value: Any, ctx: EvalContext) -> Any:
    env = ctx.env
    assert env.trace is not None
    args: dict[str, Any] = {}
    env.trace_args.append(args)
    try:
        output = _runner(command)(command.node, value, ctx)
    except Exception as exc:
        error = exc if isinstance(exc, EvaluationError) else _foreign(exc, command)
        env.trace_args.pop()
        env.trace(TraceEvent(command.path, command.name, value, args,
                             error=env.redact(error.diagnostic.message)))
        if isinstance(exc, EvaluationError):
            raise _located(exc, command) from None
        raise error from exc
    env.trace_args.pop()
    env.trace(TraceEvent(command.path, command.name, value, args, output))
    return output


def _located(exc: EvaluationError, command: Command) -> EvaluationError:
    if exc.diagnostic.path:
        return exc
    located = type(exc)(replace(exc.diagnostic, path=command.path))
    located.__cause__ = exc.__cause__
    return located


def _foreign(exc: Exception, command: Command) -> EvaluationError:
    return EvaluationError(Diagnostic(
        code="runtime-error",
        message=f"{command.name} failed: {type(exc).__name__}: {exc}",
        path=command.path,
        hint="an unexpected failure inside the command; run with --trace to see its input",
    ))
