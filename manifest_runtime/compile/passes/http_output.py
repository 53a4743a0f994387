"""The `!http` output-shape pass (DESIGN §4): `{status, headers, body}` or the parsed body.

An `!http` step yields the shape its consumers read: the first later step of its `!pipe` that
is not a pass-through (`!print_c`, `!save`), and every `${piped_content.N.<field>}`. If they
read `.status`/`.headers`/`.body`, the step yields the wrapper; if they read other fields,
the parsed body (so both published styles, `.body.accounts` and `.accounts`, run unchanged);
if nothing reads it, the wrapper. The decision reaches an `!http` inside a `!switch` case or at
the end of a nested `!pipe` (whose consumer is outside it).

The pass writes `Compiler.http_outputs` (command path -> HttpDecision), the table each compiled
`HttpNode` reads its shape from, so no node is rebuilt. It dispatches on command names and
node attributes only: it imports no command module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...model import Command, HttpDecision, HttpOutput

if TYPE_CHECKING:
    from ..compiler import Compiler

WRAPPER_KEYS = frozenset({"body", "status", "headers"})
PASSTHROUGH = frozenset({"!print_c", "!save"})  # output their input unchanged


def decide_http_outputs(c: Compiler) -> None:
    """Decide the output shape of every `!http` step consumed inside a `!pipe`. Pipes are
    visited inner first, so an outer pipe's consumer decides for a nested pipe's last step."""
    for command in c.built:
        if command.name == "!pipe" and command.node is not None:
            _decide_pipe(command.node, c)


def note_http_outputs(c: Compiler) -> None:
    """Decide, then note each `!http` step's output shape (severity info)."""
    decide_http_outputs(c)
    for command in c.built:
        if command.name != "!http" or command.node is None:
            continue
        decision = c.http_outputs.get(command.path, HttpDecision())
        shape = "{status, headers, body}" if decision.output == "wrapped" else "the parsed body"
        c.report("http-output", f"!http output: {decision.output} = {shape}; "
                 f"{decision.reason}", command.path, severity="info")


def _decide_pipe(pipe: Any, c: Compiler) -> None:
    steps: tuple[Command, ...] = pipe.steps
    if not pipe.complete:
        return  # a step did not compile: its consumers are unknown
    refs: dict[int, list[tuple[str, str]]] = {}
    for n, field_name, text in pipe.reads:
        refs.setdefault(n, []).append((field_name, text))
    for i, step in enumerate(steps):
        if _yields_http(step):
            reads, who = _consumer_reads(i + 1, steps[i + 1 :], refs)
            _retarget(step, reads, who, c)


def _yields_http(step: Command) -> bool:
    """Can this step's output be an `!http` response (itself, a case, a nested pipe's end)?"""
    node = step.node
    if node is None:
        return False
    if step.name == "!http":
        return True
    if step.name == "!switch":
        return any(_yields_http(case) for case in node.cases)
    if step.name == "!pipe" and node.steps:
        return _yields_http(node.steps[-1])
    return False


def _consumer_reads(index: int, later: tuple[Command, ...],
                    refs: dict[int, list[tuple[str, str]]]) -> tuple[frozenset[str], str]:
    """Root fields read from step `index`'s output, and who reads them (for the note)."""
    reads: set[str] = set()
    who: list[str] = []
    for offset, step in enumerate(later):
        found = _input_reads(step)
        if found:
            reads |= found
            who.append(f"step {index + 1 + offset} ({step.name})")
        if step.name not in PASSTHROUGH:
            break
    for field_name, text in refs.get(index, ()):
        reads.add(field_name)
        who.append(text)
    return frozenset(reads), ", ".join(dict.fromkeys(who))


def _input_reads(step: Command) -> frozenset[str]:
    """Root fields `step` reads from its input: a `!jq` program, a `!switch`'s jq and its
    cases (they get the same input), a nested pipe's first reader and its
    ${piped_content.0.<field>} references."""
    node = step.node
    if node is None:
        return frozenset()
    if step.name == "!jq":
        reads: frozenset[str] = node.reads
        return reads
    if step.name == "!switch":
        found = set(node.jq.reads)
        for case in node.cases:
            found |= _input_reads(case)
        return frozenset(found)
    if step.name == "!pipe":
        found = {name for n, name, _ in node.reads if n == 0}
        for inner in node.steps:
            found |= _input_reads(inner)
            if inner.name not in PASSTHROUGH:
                break
        return frozenset(found)
    return frozenset()


def _retarget(step: Command, reads: frozenset[str], who: str, c: Compiler) -> None:
    """Decide the shape of the `!http` this step yields (through cases and nested pipes)."""
    node = step.node
    if step.name == "!http":
        c.http_outputs[step.path] = _decision(step, reads, who, c)
    elif step.name == "!switch":
        for case in node.cases:
            _retarget(case, reads, who, c)
    elif step.name == "!pipe" and node.steps:
        _retarget(node.steps[-1], reads, who, c)


def _decision(step: Command, reads: frozenset[str], who: str, c: Compiler) -> HttpDecision:
    fields = ", ".join("." + r for r in sorted(reads))
    mode: HttpOutput
    if reads & WRAPPER_KEYS:
        mode, reason = "wrapped", f"{who} reads {fields}"
        if reads - WRAPPER_KEYS:
            c.report("http-output-conflict",
                     f"the consumers of this !http step read both wrapper fields and body "
                     f"fields ({fields}: {who}); it yields {{status, headers, body}}, so "
                     f"{', '.join('.' + r for r in sorted(reads - WRAPPER_KEYS))} will be "
                     "missing", step.path, severity="warning",
                     hint="read the body's fields as .body.<field> "
                     "(${piped_content.N.body.<field>})")
    elif reads:
        mode, reason = "body", f"{who} reads {fields} at the root of the response body"
    else:
        mode, reason = "wrapped", "no later step reads fields of the response"
    return HttpDecision(mode, reason)
