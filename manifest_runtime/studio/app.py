"""The studio's web app (starlette): the page, its assets (shipped in this package: no CDN),
and the JSON endpoints the page calls. Each endpoint drives the same engines as the command
line (setup/flow.py through setup_session.py, the batch engine through Services.run_records)
and answers HTML fragments rendered here; the browser only sends answers and shows them.

    GET  /                      the page
    GET  /assets/{name}         studio.js, studio.css, mermaid.js (graph/assets)
    GET  /api/manifest?known=V  the overview (or the diagnostics), re-validated on change
    POST /api/setup/start       {workflow}            -> the first question
    POST /api/setup/answer      {kind, value}         -> the next question / refusal / end
    POST /api/setup/search      {text}                -> the options for a search text
    GET  /api/setup/answers     the answers file (YAML) of the setup so far
    POST /api/run               {workflow, text, restart} -> each record's outcome
    GET  /api/sandbox?workflow= the sandbox contacts and the workflow's dead letters
    GET  /api/trace?after=N     trace entries after N
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from html import escape
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import ManifestRuntimeError
from . import render
from .bridge import Finished, Options, Question
from .manifest import WatchedManifest
from .trace import TraceLog

if TYPE_CHECKING:
    from .services import Services
    from .setup_session import SetupSession

CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' "
       "'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'")
ASSETS = {"studio.js": "text/javascript", "studio.css": "text/css"}


@lru_cache(maxsize=4)
def asset(name: str) -> bytes:
    if name == "mermaid.js":
        from ..graph.render import mermaid_js

        return mermaid_js().encode("utf-8")
    return files("manifest_runtime.studio").joinpath(f"assets/{name}").read_bytes()


class NotJson(Exception):
    """A POST whose body is not a JSON object sent as application/json."""


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object a POST carries. Only `application/json` is read: a form another site
    makes a browser send (text/plain, no preflight) is refused, so no page elsewhere can
    answer the setup or start a run."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise NotJson("send JSON (Content-Type: application/json)")
    try:
        body = await request.json()
    except ValueError:
        raise NotJson("the body is not JSON") from None
    if not isinstance(body, dict):
        raise NotJson("the body is not a JSON object")
    return body


async def _not_json(request: Request, exc: Exception) -> Response:
    return JSONResponse({"kind": "error", "html": render.e(str(exc))}, status_code=415)


class Studio:
    def __init__(self, manifest: str, services: Services) -> None:
        self.manifest = WatchedManifest(manifest)
        self.services = services
        self.log = TraceLog()
        self.session: SetupSession | None = None
        self._lock = threading.Lock()

    # -- helpers --------------------------------------------------------------------------------

    def _refresh(self) -> None:
        if self.manifest.refresh() and self.session is not None:
            self.session.cancel()  # its questions came from the old manifest
            self.session = None
            self.log.action = "manifest changed"
            self.log.warning(f"{self.manifest.path} changed: re-validated"
                             + ("" if self.manifest.compiled.valid else ", invalid"))

    def overview(self) -> str:
        from ..graph import build, mermaid
        from ..workflows import intakes, workflows

        compiled = self.manifest.compiled
        if not compiled.valid:
            return render.diagnostics(compiled.diagnostics, self.manifest.path)
        rows = []
        for w in workflows(compiled):
            raw = compiled.data["workflows"][w.index]
            description = raw.get("description") if isinstance(raw, dict) else None
            feeds = ", ".join(n for n in (w.data_intake, w.historical_data_intake) if n)
            rows.append(
                f'<li class="workflow" data-name="{render.e(w.name)}"><b>{render.e(w.label)}</b> '
                f'<code>{render.e(w.name)}</code> <span class="type">'
                f'{"inbound" if w.inbound else "outbound"}, auth {render.e(w.auth or "-")}'
                f'{", intake " + render.e(feeds) if feeds else ""}</span>'
                f'{"<br>" + render.e(description) if isinstance(description, str) else ""}'
                f' <button type="button" class="setup" data-workflow="{render.e(w.name)}">'
                "Set up</button></li>")
        listed = "".join(f"<li><code>{render.e(i.name)}</code> ({render.e(i.type)})</li>"
                         for i in intakes(compiled))
        graph = escape(mermaid(build(compiled.data, self.manifest.path)))
        return (f'<section id="workflows"><h2>Workflows</h2><ul>{"".join(rows)}</ul>'
                + (f"<h2>Data intakes</h2><ul>{listed}</ul>" if listed else "")
                + '<h2>Graph <button type="button" id="graph-zoom" class="small">'
                'enlarge</button></h2><pre class="mermaid" id="graph">'
                + graph + "</pre></section>")

    def _context(self, session: SetupSession, ev: Any) -> dict[str, Any]:
        context: dict[str, Any] = {
            "state_path": self.services.state_path, "redact": session.redactor.text,
            "base_url": (session.compiled.data.get("api") or {}).get("base_url")}
        if isinstance(ev, Question) and ev.kind == "field":
            from ..setup.select import form_fields

            form = form_fields(session.flow.steps)
            field = ev.request
            context["more_fields"] = field.index < len(form) - 1
            raw = session.compiled.data["workflows"][session.index]["setup"]["select"]
            spec = raw["form_fields"][field.index]
            personalize = spec.get("personalize") if field.type == "textarea" else None
            if personalize:
                context["personalize"] = personalize
                context["tags"] = self._tags(session)
            given = session.flow.answered.get("custom_data", {})  # the engine's, kept
            shown = session.answerer.shown
            context["answered_html"] = render.answered(
                [(f.label, shown.get(f.id) or json.dumps(given[f.id], ensure_ascii=False))
                 for f in form[:field.index] if f.id in given])
        return context

    def _tags(self, session: SetupSession) -> list[str]:
        tags = list(render.PERSONALIZATION)
        try:
            fields = session.state.sandbox().custom_fields
        except Exception:  # a state file without a sandbox yet: the standard tags only
            return tags
        tags += [f"%{f.perstag}%" for f in fields if getattr(f, "perstag", None)]
        return tags

    def _event(self, session: SetupSession, ev: Question | Options | Finished) -> JSONResponse:
        kind = "options" if isinstance(ev, Options) else \
            "finished" if isinstance(ev, Finished) else "question"
        return JSONResponse({"kind": kind, "html": render.event(ev, self._context(session, ev)),
                             "saved": isinstance(ev, Finished) and ev.outcome is not None})

    # -- endpoints ------------------------------------------------------------------------------

    def page(self, request: Request) -> HTMLResponse:
        title = escape(f"manifest-runtime studio: {self.manifest.path}")
        body = (files("manifest_runtime.studio").joinpath("assets/page.html").read_text()
                .replace("{{title}}", title)
                .replace("{{state}}", escape(self.services.state_path)))
        return HTMLResponse(body, headers={"Content-Security-Policy": CSP})

    def assets(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in (*ASSETS, "mermaid.js"):
            return Response("not found", status_code=404)
        return Response(asset(name), media_type=ASSETS.get(name, "text/javascript"),
                        headers={"Cache-Control": "no-cache"})

    def manifest_state(self, request: Request) -> JSONResponse:
        with self._lock:
            self._refresh()
        known = request.query_params.get("known")
        version = self.manifest.version
        out: dict[str, Any] = {"version": version, "valid": self.manifest.compiled.valid}
        if known != str(version):
            out["html"] = self.overview()
        return JSONResponse(out)

    async def setup_start(self, request: Request) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        body = await _body(request)
        return await run_in_threadpool(self._start, str(body.get("workflow") or ""))

    def _start(self, name: str) -> JSONResponse:
        from ..workflows import workflows

        with self._lock:
            self._refresh()
            if self.session is not None:
                self.session.cancel()
                self.session = None
            compiled = self.manifest.compiled
            if not compiled.valid:
                return JSONResponse({"kind": "invalid", "html": self.overview()})
            found = {w.name: w.index for w in workflows(compiled)}
            if name not in found:
                return JSONResponse({"kind": "error", "html": render.e(
                    f"the manifest has no workflow {name!r}")}, status_code=400)
            from .setup_session import SetupSession

            try:
                session = SetupSession(compiled, found[name], self.services, self.log)
            except ManifestRuntimeError as exc:
                return JSONResponse({"kind": "error",
                                     "html": render.diagnostic(exc.diagnostic)})
            self.session = session
        return self._event(session, session.start())

    async def setup_answer(self, request: Request) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        body = await _body(request)
        kind = "action" if body.get("kind") == "action" else "answer"
        label = str(body.get("label") or body.get("kind") or "answer")
        return await run_in_threadpool(self._send, kind, body.get("value"), label)

    async def setup_search(self, request: Request) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        body = await _body(request)
        text = str(body.get("text") or "")
        return await run_in_threadpool(self._send, "search", text, f"search {text!r}")

    def _send(self, kind: str, value: Any, label: str) -> JSONResponse:
        session = self.session
        if session is None:
            return JSONResponse({"kind": "gone", "html": "<p class=\"note\">No setup in "
                                 "progress (the manifest changed?): choose a workflow.</p>"})
        try:
            ev = session.send(kind, value, label)
        except TimeoutError as exc:
            return JSONResponse({"kind": "error", "html": render.e(str(exc))}, status_code=504)
        return self._event(session, ev)

    def setup_answers(self, request: Request) -> Response:
        session = self.session
        if session is None:
            return Response("no setup in progress\n", status_code=404, media_type="text/plain")
        return Response(session.answers_file(), media_type="application/x-yaml",
                        headers={"Content-Disposition": 'attachment; filename="answers.yaml"'})

    async def run(self, request: Request) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        body = await _body(request)
        return await run_in_threadpool(self._run, str(body.get("workflow") or ""),
                                       str(body.get("text") or ""), bool(body.get("restart")))

    def _run(self, name: str, text: str, restart: bool) -> JSONResponse:
        from .run_panel import run_payloads

        with self._lock:
            self._refresh()
            compiled = self.manifest.compiled
        if not compiled.valid:
            return JSONResponse({"html": render.diagnostics(compiled.diagnostics,
                                                            self.manifest.path)})
        self.log.action = f"run {name}"
        return JSONResponse({"html": run_payloads(compiled, name, text, restart,
                                                  self.services, self.log)})

    def sandbox(self, request: Request) -> JSONResponse:
        from .run_panel import sandbox_html

        return JSONResponse({"html": sandbox_html(self.services,
                                                  request.query_params.get("workflow"))})

    def trace(self, request: Request) -> JSONResponse:
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            after = 0
        entries = self.log.since(after)
        return JSONResponse({"last": entries[-1].id if entries else after,
                             "html": render.trace_entries(entries)})

    def app(self) -> Starlette:
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        # only the loopback names: a page elsewhere cannot reach it through DNS rebinding
        hosts = Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
        return Starlette(middleware=[hosts], exception_handlers={NotJson: _not_json}, routes=[
            Route("/", self.page),
            Route("/assets/{name}", self.assets),
            Route("/api/manifest", self.manifest_state),
            Route("/api/setup/start", self.setup_start, methods=["POST"]),
            Route("/api/setup/answer", self.setup_answer, methods=["POST"]),
            Route("/api/setup/search", self.setup_search, methods=["POST"]),
            Route("/api/setup/answers", self.setup_answers),
            Route("/api/run", self.run, methods=["POST"]),
            Route("/api/sandbox", self.sandbox),
            Route("/api/trace", self.trace),
        ])

    def close(self) -> None:
        if self.session is not None:
            self.session.cancel()
