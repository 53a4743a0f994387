"""One record's HTTP service during `run`: before the record's first request that is not
idempotent (POST, PATCH) leaves, its `sending` mark is committed in the journal (so a process
killed mid-request leaves the mark, and the next run reports the record as outcome-unknown
instead of sending it again); with an idempotency header, each such request carries the
record's identity (`<identity>`, then `<identity>.2`, ... for the record's later requests); a
request that may have reached the server and failed on the way back (read timeout, dropped
connection) makes the record's outcome unknown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..http.types import HttpRequest, HttpResponse, HttpService


class GuardedHttp:
    """An HttpService wrapping the run's for one record (not shared between threads)."""

    def __init__(self, inner: HttpService, key: str, before_unsafe: Callable[[], None] | None,
                 idempotency_header: str | None, sandbox_account: bool) -> None:
        self._inner = inner
        self._key = key
        self._before_unsafe = before_unsafe
        self._header = idempotency_header
        self._sandbox_account = sandbox_account  # target activecampaign stays in the file
        self._unsafe = 0
        self.uncertain = False  # a request may have acted without us knowing

    def __getattr__(self, name: str) -> object:  # base_url, subdomain, ... of the run's
        return getattr(self._inner, name)

    def send(self, request: HttpRequest) -> HttpResponse:
        from ..http.client import MaybeSent  # loaded by the first request (start-up)
        from ..http.retry import IDEMPOTENT

        local = request.target == "activecampaign" and self._sandbox_account
        if request.method.upper() in IDEMPOTENT or local:
            return self._inner.send(request)
        self._unsafe += 1
        if self._unsafe == 1 and self._before_unsafe is not None:
            self._before_unsafe()
        if self._header is not None:
            key = self._key if self._unsafe == 1 else f"{self._key}.{self._unsafe}"
            request = replace(request, headers={**request.headers, self._header: key})
        try:
            return self._inner.send(request)
        except MaybeSent:
            self.uncertain = True
            raise
