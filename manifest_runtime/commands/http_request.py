"""Turn a compiled `!http` node into an `HttpRequest` (DESIGN §4 paths, encoding, body).

* `url` and absolute `path`s are used as they are; a relative `path` (or relative `url`) is
  joined to `api.base_url` with exactly one `/`. Inline query strings are kept.
* Expansion values spliced into a path/url are percent-encoded (`/` too), the literal text of
  the template is not. A path/url that is exactly one expansion is a URL value: used as is.
* `params` values keep their JSON types; the HTTP layer encodes the query string.
* Body: JSON, or form-encoded when a Content-Type header says x-www-form-urlencoded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import describe
from ..expressions.evaluate import as_text, evaluate_expansion
from ..http.types import HttpRequest
from ..model import Const, Node, Tmpl
from ..runtime.errors import fail
from ..runtime.evaluate import evaluate

if TYPE_CHECKING:
    from ..runtime.context import EvalContext
    from .http import HttpNode

FORM = "application/x-www-form-urlencoded"
ABSOLUTE = ("http://", "https://")


def build_request(node: HttpNode, value: Any, ctx: EvalContext) -> HttpRequest:
    headers = _headers(node, value, ctx)
    url = _url(node, value, ctx)
    params = _params(node, value, ctx)
    body = evaluate(node.body, value, ctx) if node.body is not None else None
    json_body: Any = None
    form: dict[str, Any] | None = None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if body is not None and FORM in content_type.lower():
        if not isinstance(body, dict):
            raise fail("http-form-body", f"a form-encoded body must be an object, got "
                       f"{describe(body)}")
        form = {k: _form_value(v) for k, v in body.items()}
    else:
        json_body = body
    return HttpRequest(method=node.method, url=url, target=node.target, params=params,
                       headers=headers, json=json_body, form=form,
                       pagination=node.pagination, where=node.where)


def _form_value(value: Any) -> Any:
    if isinstance(value, list):
        return [as_text(v) for v in value]
    return as_text(value)


def _object(part: Any, key: str, value: Any, ctx: EvalContext) -> dict[Any, Any]:
    """Evaluate an optional object argument (`headers`, `params`) of !http."""
    if part is None:
        return {}
    raw = evaluate(part, value, ctx)
    if not isinstance(raw, dict):
        raise fail(f"http-{key}", f"!http {key} must be an object, got {describe(raw)}")
    return raw


def _headers(node: HttpNode, value: Any, ctx: EvalContext) -> dict[str, str]:
    raw = _object(node.headers, "headers", value, ctx)
    return {str(k): as_text(v) for k, v in raw.items()}


def _params(node: HttpNode, value: Any, ctx: EvalContext) -> dict[str, Any]:
    raw = _object(node.params, "params", value, ctx)
    return {str(k): v if _scalar_or_list(v) else as_text(v) for k, v in raw.items()}


def _scalar_or_list(v: Any) -> bool:
    if isinstance(v, list):
        return all(isinstance(x, str | int | float | bool) for x in v)
    return v is None or isinstance(v, str | int | float | bool)


def _url(node: HttpNode, value: Any, ctx: EvalContext) -> str:
    raw = node.url if node.url is not None else node.path
    if raw is None:
        raise fail("http-url", "!http has neither path nor url")
    text = expand_encoded(raw, value, ctx)
    if node.target == "activecampaign" or text.startswith(ABSOLUTE):
        return text
    return join_url(base_url(ctx), text)


def expand_encoded(node: Node, value: Any, ctx: EvalContext) -> str:
    """The text of a path/url template with each spliced expansion value percent-encoded."""
    if isinstance(node, Const):
        return as_text(node.value)
    if not isinstance(node, Tmpl):
        return as_text(evaluate(node, value, ctx))
    template = node.template
    roots = ctx.roots()
    if template.single is not None:
        return as_text(evaluate_expansion(template.single, roots, node.path, template.source))
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
        else:
            text = as_text(evaluate_expansion(part, roots, node.path, template.source))
            out.append(quote(text, safe=""))
    return "".join(out)


def base_url(ctx: EvalContext) -> str:
    base = ctx.env.base_url
    if base is None:
        raise fail("no-base-url", "a relative !http path needs api.base_url",
                   hint="set api.base_url, or give an absolute url")
    if isinstance(base, str):
        return base
    return as_text(evaluate(base, None, ctx))


def join_url(base: str, path: str) -> str:
    """`base` + `path` with exactly one `/` between them (an empty path is the base)."""
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")
