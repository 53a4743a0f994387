"""`!respond`: the HTTP reply to a webhook verification request (or: process the payload)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import describe
from ..model import Node
from ..runtime.evaluate import evaluate
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext


@dataclass(frozen=True, slots=True)
class RespondNode:
    process_payload: bool
    code: int
    headers: Node | None
    body: Node | None


def compile_respond(raw: Any, path: Path, c: Compiler, scope: Scope) -> RespondNode | None:
    allowed = {"process_payload": False, "code": False, "headers": False, "body": False}
    args = c.object_arg(raw, path, "!respond", allowed)
    if args is None:
        return None
    process = args.get("process_payload", False)
    if not isinstance(process, bool):
        c.report("invalid-argument", f"!respond process_payload must be true or false, got "
                 f"{describe(process)}", (*path, "process_payload"),
                 hint="true: process the webhook's payload; false: only reply with code, "
                 "headers and body")
        process = False
    code = args.get("code", 200)
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
        c.report("invalid-argument", f"!respond code must be an HTTP status (100-599), got "
                 f"{describe(code)}", (*path, "code"),
                 hint='e.g. "code": 200 (a number, not a string)')
        code = 200
    if "headers" in args and not isinstance(args["headers"], dict):
        c.report("invalid-argument", f"!respond headers must be an object, got "
                 f"{describe(args['headers'])}", (*path, "headers"),
                 hint='header names to values, e.g. "headers": {"Content-Type": "text/plain"}')
    headers = c.value(args["headers"], (*path, "headers"), scope) if "headers" in args else None
    body = c.value(args["body"], (*path, "body"), scope) if "body" in args else None
    return RespondNode(process, code, headers, body)


def run_respond(node: RespondNode, value: Any, ctx: EvalContext) -> Any:
    """`{process_payload, code, headers, body}` with headers and body evaluated."""
    return {
        "process_payload": node.process_payload,
        "code": node.code,
        "headers": evaluate(node.headers, value, ctx) if node.headers is not None else {},
        "body": evaluate(node.body, value, ctx) if node.body is not None else {},
    }


SPEC = CommandSpec("!respond", "reply to a webhook verification request", compile_respond,
                   run_respond)
