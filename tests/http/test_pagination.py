from __future__ import annotations

from typing import Any

import httpx
from http_helpers import TOKEN, Harness, json_response, manifest

from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.pagination import MAX_PAGES, find_items
from manifest_runtime.http.types import HttpRequest

AUTH = {"type": "token", "header_key": "Authorization", "token_prefix": "Bearer",
        "verify_url": "https://api.example.com/me"}
URL = "https://api.example.com/items"


def api(style: dict[str, Any], parser: dict[str, Any] | None = None) -> dict[str, Any]:
    pagination: dict[str, Any] = {"style": style}
    if parser is not None:
        pagination["parser"] = parser
    return {"base_url": "https://api.example.com", "pagination": pagination}


def paged(harness: Harness, style: dict[str, Any], parser: dict[str, Any] | None,
          handler: Any, **request: Any) -> Any:
    client = harness.client(manifest(AUTH, api(style, parser)), handler,
                            Credentials(token=TOKEN))
    return client.send(HttpRequest("GET", request.pop("url", URL), pagination=True, **request))


def query(harness: Harness) -> list[dict[str, str]]:
    return [dict(r.url.params) for r in harness.requests]


PAGE_STYLE = {"type": "page", "page_number": {"param": "page", "value": 1},
              "page_size": {"param": "pageSize", "value": 2},
              "extra": {"param": "ordering", "value": "desc"}}


def test_page_style_with_bare_total_pages_parser(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return json_response(200, {"page_count": 3, "data": [f"a{page}", f"b{page}"]})

    response = paged(harness, PAGE_STYLE, {"total_pages": {"!jq": "page_count"}}, handler,
                     params={"q": "x"})
    assert response.body == {"page_count": 3,
                             "data": ["a1", "b1", "a2", "b2", "a3", "b3"]}
    assert query(harness) == [
        {"q": "x", "ordering": "desc", "page": str(n), "pageSize": "2"} for n in (1, 2, 3)]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in harness.requests)


def test_page_style_next_page_url(harness: Harness) -> None:
    pages = {"1": "https://api.example.com/items?page=2&pageSize=2", "2": None}

    def handler(request: httpx.Request) -> httpx.Response:
        page = request.url.params["page"]
        return json_response(200, {"items": [page], "meta": {"links": {"next_page":
                                                                      pages[page]}}})

    response = paged(harness, PAGE_STYLE, {"next_page_url": {"!jq": ".meta.links.next_page"}},
                     handler)
    assert response.body["items"] == ["1", "2"]
    assert str(harness.requests[1].url) == "https://api.example.com/items?page=2&pageSize=2"


def test_limitoffset_with_total_items_and_extra_list(harness: Harness) -> None:
    style = {"type": "limitoffset", "limit": {"param": "limit", "value": 2},
             "offset": {"param": "offset", "value": 0},
             "extra": [{"param": "sort", "value": "id"}, {"param": "dir", "value": "asc"}]}
    items = list(range(5))

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return json_response(200, {"total_items": 5, "records": items[offset:offset + 2]})

    response = paged(harness, style, {"total_items": {"!jq": ".total_items"}}, handler)
    assert response.body == {"total_items": 5, "records": [0, 1, 2, 3, 4]}
    assert [q["offset"] for q in query(harness)] == ["0", "2", "4"]
    assert query(harness)[0] == {"sort": "id", "dir": "asc", "limit": "2", "offset": "0"}


def test_cursor_style_follows_tokens(harness: Harness) -> None:
    style = {"type": "cursor", "limit": {"param": "count", "value": 10},
             "ordering": {"param": "order", "value": "asc"}}
    nxt = {None: "c2", "c2": "c3", "c3": ""}

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        return json_response(200, {"next_cursor": nxt[cursor], "results": [cursor or "c1"]})

    response = paged(harness, style, {"next_result_token": {"!jq": "next_cursor"}}, handler)
    assert response.body["results"] == ["c1", "c2", "c3"]
    assert query(harness)[1] == {"count": "10", "order": "asc", "cursor": "c2"}


def test_list_body_and_empty_page_stops(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return json_response(200, [page] if page < 3 else [])

    assert paged(harness, PAGE_STYLE, None, handler).body == [1, 2]
    assert len(harness.requests) == 3


def test_repeated_page_stops_the_loop(harness: Harness) -> None:
    response = paged(harness, PAGE_STYLE, None, lambda r: json_response(200, {"data": [1, 2]}))
    assert response.body == {"data": [1, 2]}
    assert len(harness.requests) == 2


def test_hundred_page_cap(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(200, {"data": [request.url.params["page"]]})

    response = paged(harness, PAGE_STYLE, None, handler)
    assert len(harness.requests) == MAX_PAGES
    assert response.body["data"][-1] == str(MAX_PAGES)


def test_error_page_is_returned(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return json_response(200 if page == 1 else 404, {"data": [page]})

    response = paged(harness, PAGE_STYLE, None, handler)
    assert response.status == 404


def test_without_pagination_flag_one_request(harness: Harness) -> None:
    client = harness.client(manifest(AUTH, api(PAGE_STYLE)),
                            lambda r: json_response(200, {"data": [1]}), Credentials(token=TOKEN))
    assert client.send(HttpRequest("GET", URL)).body == {"data": [1]}
    assert query(harness) == [{}]


def test_find_items_needs_exactly_one_array() -> None:
    assert find_items([1]) == (None, [1])
    assert find_items({"a": [1], "n": 2}) == ("a", [1])
    assert find_items({"a": [1], "b": [2]}) is None
    assert find_items("text") is None
