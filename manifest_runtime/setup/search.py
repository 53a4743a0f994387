"""Server-side search in dropdowns (reference §5.2 form field `search_term`): the user's typed
text is sent as the query parameter `<search_term>=<text>` on the options command's `!http`
requests. `SearchingHttp` wraps the run's HttpService for one evaluation of the options."""

from __future__ import annotations

from dataclasses import replace

from ..http.types import HttpRequest, HttpResponse, HttpService


class SearchingHttp:
    """Adds `param=text` to every request to the connected API or an external one (the
    ActiveCampaign account's own API is left alone)."""

    def __init__(self, inner: HttpService, param: str, text: str) -> None:
        self.inner = inner
        self.param = param
        self.text = text

    def send(self, request: HttpRequest) -> HttpResponse:
        if request.target == "activecampaign":
            return self.inner.send(request)
        return self.inner.send(replace(request, params={**request.params,
                                                        self.param: self.text}))
