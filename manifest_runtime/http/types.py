"""The narrow HTTP interface between the `!http` command and the HTTP layer.

`!http` evaluates its arguments into an `HttpRequest` and hands it to an `HttpService`; the
service applies auth (for target "connection"), pagination, retries, rate limits, host remaps
and record/replay, and returns an `HttpResponse`. Tests plug in an httpx.MockTransport.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..paths import Path


@dataclass(frozen=True)
class HttpRequest:
    method: str  # upper case
    url: str  # absolute URL, inline query string kept
    target: str = "connection"  # "connection" | "external" | "activecampaign"
    params: dict[str, Any] = field(default_factory=dict)  # merged into the URL's query
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None  # JSON body (None: no body unless `form` is set)
    form: dict[str, Any] | None = None  # form-encoded body
    pagination: bool = False  # follow api.pagination and concatenate pages
    where: Path = ()  # manifest path of the !http command (errors, trace)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON when possible, else text
    # the URL that answered (after redirects; before --remap), for messages
    url: str = field(default="", compare=False)

    def wrapped(self) -> dict[str, Any]:
        return {"status": self.status, "headers": self.headers, "body": self.body}


class HttpService(Protocol):
    def send(self, request: HttpRequest) -> HttpResponse:
        """Perform the request (with retries etc.); raise EvaluationError on failure."""
        ...
