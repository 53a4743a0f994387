"""Shared by the data-driven evaluation tests: compile a raw value with the real Compiler and
run it in a context described by a case's `context` mapping (HTTP through MockTransport)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from manifest_runtime.activecampaign import MemoryAccount
from manifest_runtime.compile import Scope, compile_value
from manifest_runtime.expressions.nodes import Missing
from manifest_runtime.http.simple import SimpleHttpService
from manifest_runtime.model import Node
from manifest_runtime.runtime import Env, EvalContext, MemoryStore
from manifest_runtime.source import SourceMap

# Everything allowed, so a case may read any root wherever its command stands.
OPEN_SCOPE = Scope(polling=True, webhook_lifecycle=True, pipe_step=100)


def compile_raw(raw: Any, scope: Scope = OPEN_SCOPE) -> tuple[Node, list[Any]]:
    """The compiled node and the error diagnostics."""
    node, diagnostics = compile_value(raw, ("case",), scope, SourceMap("case.yaml"))
    return node, [d for d in diagnostics if d.severity == "error"]


@dataclass
class Harness:
    ctx: EvalContext
    store: MemoryStore
    account: MemoryAccount
    logged: list[str] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)


def make_context(spec: dict[str, Any] | None) -> Harness:
    spec = dict(spec or {})
    store = MemoryStore({k: dict(v) for k, v in (spec.pop("data", None) or {}).items()})
    account = MemoryAccount(contact=spec.pop("contact", None))
    logged: list[str] = []
    requests: list[httpx.Request] = []
    responses = spec.pop("responses", None) or []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        for r in responses:
            if r["method"] == request.method and r["url"] == str(request.url):
                if "text" in r:
                    return httpx.Response(r.get("status", 200), text=r["text"])
                return httpx.Response(r.get("status", 200), json=r.get("json"),
                                      headers=r.get("headers"))
        return httpx.Response(404, json={"error": f"no fake for {request.method} {request.url}"})

    http = SimpleHttpService(httpx.Client(transport=httpx.MockTransport(handler)))
    env = Env(store=store, http=http, ac=account, base_url=spec.pop("base_url", None),
              http_output=spec.pop("http_output", None), log=logged.append,
              resource_role=spec.pop("resource_role", None))
    ctx = EvalContext.create(
        custom_data=spec.pop("custom_data", None),
        piped_content=spec.pop("piped_content", None),
        webhook=spec.pop("webhook", None),
        polling_state=spec.pop("polling_state", Missing),
        subdomain=spec.pop("subdomain", None),
        resource=spec.pop("resource", Missing),
        env=env,
    )
    assert not spec, f"unknown context keys: {sorted(spec)}"
    h = Harness(ctx, store, account, logged, requests)
    return h


def request_view(request: httpx.Request) -> dict[str, Any]:
    """What a MockTransport handler saw, in a shape cases can compare."""
    content = request.content.decode()
    view: dict[str, Any] = {"method": request.method, "url": str(request.url),
                            "headers": dict(request.headers)}
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        view["json"] = json.loads(content)
    elif content:
        view["content"] = content
    return view
