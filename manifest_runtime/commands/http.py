"""`!http`: one HTTP request (to the connected API, an external URL, or ActiveCampaign)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import choices_hint, describe
from ..model import HttpDecision, HttpOutput, Node
from ..runtime.errors import excerpt, fail
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..http.types import HttpRequest
    from ..paths import Path
    from ..runtime.context import EvalContext

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
TARGETS = ("connection", "external", "activecampaign")
ARGS = {
    "method": False,
    "path": False,
    "url": False,
    "target": False,
    "body": False,
    "params": False,
    "headers": False,
    "pagination": False,
}


@dataclass(frozen=True, slots=True)
class HttpNode:
    method: str
    path: Node | None  # relative to api.base_url (or absolute)
    url: Node | None  # a full URL; base_url is ignored
    target: str
    body: Node | None
    params: Node | None
    headers: Node | None
    pagination: bool
    where: Path
    # the output-shape table of the compile (passes/http_output.py fills it), read by `where`
    decisions: Mapping[Path, HttpDecision] = field(
        default_factory=dict, compare=False, repr=False)

    @property
    def decision(self) -> HttpDecision:
        return self.decisions.get(self.where) or _DEFAULT

    @property
    def output(self) -> HttpOutput:
        """"wrapped" ({status, headers, body}) or "body" (the parsed body)."""
        return self.decision.output


_DEFAULT = HttpDecision()


def compile_http(raw: Any, path: Path, c: Compiler, scope: Scope) -> HttpNode | None:
    args = c.object_arg(raw, path, "!http", ARGS)
    if args is None:
        return None
    method = args.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        c.report("invalid-argument", f"!http method must be one of {', '.join(METHODS)}, got "
                 f"{describe(method)}", (*path, "method"),
                 hint=choices_hint(str(method).upper(), METHODS, "methods"))
        method = "GET"
    target = args.get("target", "connection")
    if target not in TARGETS:
        c.report("invalid-argument", f"!http target must be one of {', '.join(TARGETS)}, got "
                 f"{describe(target)}", (*path, "target"),
                 hint=choices_hint(str(target), TARGETS, "targets"))
        target = "connection"
    if "path" not in args and "url" not in args:
        c.report("invalid-argument", "!http needs a 'path' (relative to api.base_url) or a 'url'",
                 path, hint='e.g. {"!http": {"method": "GET", "path": "/me"}}')
    if "path" in args and "url" in args:
        c.report("invalid-argument", "!http has both 'path' and 'url'", (*path, "url"),
                 hint="give one: 'path' joins api.base_url, 'url' is used as it is", at_key=True)
    for key in ("path", "url"):
        if key in args and not isinstance(args[key], str):
            c.report("invalid-argument", f"!http {key} must be a string, got "
                     f"{describe(args[key])}", (*path, key))
    if target == "activecampaign" and (
        "url" in args or str(args.get("path", "")).startswith(("http://", "https://"))
    ):
        c.report("invalid-argument", "target 'activecampaign' takes a relative 'path' such as "
                 "'api/3/tags'", path, hint="the ActiveCampaign account's URL is filled in")
    for key in ("params", "headers"):
        if key in args and not isinstance(args[key], dict):
            c.report("invalid-argument", f"!http {key} must be an object, got "
                     f"{describe(args[key])}", (*path, key))
    pagination = args.get("pagination", False)
    if not isinstance(pagination, bool):
        c.report("invalid-argument", f"!http pagination must be true or false, got "
                 f"{describe(pagination)}", (*path, "pagination"))
        pagination = False

    def part(key: str) -> Node | None:
        return c.value(args[key], (*path, key), scope) if key in args else None

    node = HttpNode(
        method=method.upper() if isinstance(method, str) else "GET",
        path=part("path"),
        url=part("url"),
        target=str(target),
        body=part("body"),
        params=part("params"),
        headers=part("headers"),
        pagination=pagination,
        where=path[:-1],  # the command object, as every other !http error names it
        decisions=c.http_outputs,
    )
    return node


# ---------------------------------------------------------------------- run


def run_http(node: HttpNode, value: Any, ctx: EvalContext) -> Any:
    """Build the request, send it through `ctx.http` (or the ActiveCampaign account), and
    output `{status, headers, body}` or the parsed body (node.output, or ctx's override)."""
    from .http_request import build_request

    request = build_request(node, value, ctx)
    ctx.note("request", request_summary(request))
    if request.target == "activecampaign":
        if ctx.ac is None:
            raise fail("no-activecampaign", "!http target activecampaign needs an "
                       "ActiveCampaign account, and none is configured")
        response = ctx.ac.api(request.method, request.url, request.params or None,
                              request.json if request.form is None else request.form)
    else:
        if ctx.http is None:
            raise fail("no-http", "!http cannot send: no HTTP service is configured")
        response = ctx.http.send(request)
    if not 200 <= response.status < 300:
        body = ctx.env.redact(excerpt(ctx.env.redact_value(response.body), 300))
        url = response.url or request.url  # the page or redirect target that answered
        raise fail("http-status", f"{request.method} {ctx.env.redact(url)} returned "
                   f"HTTP {response.status}: {body}",
                   hint=status_hint(request.method, response.status))
    mode = ctx.env.http_output or node.output
    return response.wrapped() if mode == "wrapped" else response.body


def status_hint(method: str, status: int) -> str:
    from ..http.retry import IDEMPOTENT, NOT_ACTED_ON

    if status >= 500 and status not in NOT_ACTED_ON and method.upper() not in IDEMPOTENT:
        return f"{method} is not retried after HTTP {status}: the server may have acted " \
            "already; --retry-unsafe retries it anyway"
    if status in (401, 403):
        return "the credentials were refused: check the credentials file or MANIFEST_RUNTIME_* " \
            "variables, and the auth's header settings; --trace shows the request"
    if status == 429 or status >= 500:
        return "the server kept failing after the retries (each attempt is in --trace); try " \
            "again later, or raise --max-attempts"
    return "check the path, parameters and body; --trace shows the request"


def request_summary(request: HttpRequest) -> dict[str, Any]:
    out: dict[str, Any] = {"method": request.method, "url": request.url,
                           "target": request.target}
    for key in ("params", "headers", "json", "form"):
        value = getattr(request, key)
        if value:
            out[key] = value
    if request.pagination:
        out["pagination"] = True
    return out


SPEC = CommandSpec("!http", "send an HTTP request and output the response", compile_http,
                   run_http)
