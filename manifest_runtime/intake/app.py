"""The receiver as an ASGI application (starlette): `build_app(receiver)` is what uvicorn
serves, and what tests drive in-process with `starlette.testclient.TestClient`.

    POST|PUT|PATCH /webhooks/<workflow>   a webhook (also at extra `paths`: --public-url's)
    GET            /webhooks/<workflow>   only when the intake has a verification command
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .webhook import MAX_BODY, Incoming, Reply

if TYPE_CHECKING:
    from .webhook import Receiver

METHODS = ["GET", "POST", "PUT", "PATCH"]


def webhook_path(workflow: str) -> str:
    from urllib.parse import quote

    return f"/webhooks/{quote(workflow, safe='')}"


def build_app(receiver: Receiver, paths: Sequence[str] = ()) -> Starlette:
    """The app for one workflow's receiver; `paths` are more paths it answers at."""

    async def webhook(request: Request) -> Response:
        name = request.path_params.get("workflow")
        if name is not None and name != receiver.workflow:
            return JSONResponse({"error": f"no workflow {name!r} here; webhooks of "
                                 f"{receiver.workflow!r} go to {webhook_path(receiver.workflow)}"},
                                status_code=404)
        if request.method in ("GET", "HEAD") and not receiver.verifies:
            return JSONResponse({"error": "webhooks are POSTed here (GET is answered only by "
                                 "a data_intake with a verification command)"},
                                status_code=405, headers={"Allow": "POST, PUT, PATCH"})
        body, too_large = await _read(request)
        incoming = Incoming(method=request.method, url=str(request.url),
                            query=request.query_params.multi_items(),
                            headers=list(request.headers.items()), body=body,
                            too_large=too_large)
        reply = await asyncio.wrap_future(receiver.submit(incoming))
        return _response(reply)

    routes = [Route("/webhooks/{workflow}", webhook, methods=METHODS)]
    routes += [Route(p, webhook, methods=METHODS) for p in dict.fromkeys(paths)
               if p != webhook_path(receiver.workflow)]
    return Starlette(routes=routes)


async def _read(request: Request) -> tuple[bytes, bool]:
    """The body, cut at MAX_BODY (then the rest is not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


def _response(reply: Reply) -> Response:
    headers = {k: v for k, v in reply.headers.items() if k.lower() != "content-length"}
    body: Any = reply.body
    if isinstance(body, str):
        return Response(body, status_code=reply.status, headers=headers,
                        media_type="text/plain; charset=utf-8")
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=repr)
    return Response(content, status_code=reply.status, headers=headers,
                    media_type="application/json")
