"""A minimal HttpService over an `httpx.Client`: no auth, retries or pagination (the
production layer adds those). Tests give the client an `httpx.MockTransport`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, EvaluationError
from .body import parse_body
from .types import HttpRequest, HttpResponse

if TYPE_CHECKING:
    import httpx


class SimpleHttpService:
    """Sends each HttpRequest once with httpx; implements `HttpService`."""

    def __init__(self, client: httpx.Client, base_headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.base_headers = dict(base_headers or {})

    def send(self, request: HttpRequest) -> HttpResponse:
        import httpx

        headers = {**self.base_headers, **request.headers}
        kwargs: dict[str, Any] = {}
        if request.form is not None:
            kwargs["data"] = request.form
        elif request.json is not None:
            kwargs["json"] = request.json
        url = httpx.URL(request.url)
        if request.params:
            url = url.copy_merge_params(request.params)
        try:
            response = self.client.request(request.method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise EvaluationError(Diagnostic(
                code="http-connect",
                message=f"{request.method} {request.url}: {type(exc).__name__}: {exc}",
                path=request.where,
                hint="is the host reachable? --remap FROM=TO points it at a local server",
            )) from exc
        return to_response(response)


def to_response(response: httpx.Response) -> HttpResponse:
    """Lower-case headers; body parsed as JSON when possible, else text ("" when empty)."""
    headers = {k.lower(): v for k, v in response.headers.items()}
    return HttpResponse(response.status_code, headers,
                        parse_body(response.content, response.encoding, lambda: response.text))
