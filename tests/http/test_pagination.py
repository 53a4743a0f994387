from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from http_helpers import TOKEN, Harness, json_response, manifest

from manifest_runtime.http.credentials import Credentials
from manifest_runtime.http.pagination import MAX_PAGES, find_items, paginate
from manifest_runtime.http.types import HttpRequest, HttpResponse

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
    assert response.body["meta"] == {"links": {"next_page": None}}  # the last page's link
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


def test_cursor_style_param_names_the_cursor_and_value_starts_it(harness: Harness) -> None:
    style = {"type": "cursor", "limit": {"param": "count", "value": 10},
             "cursor": {"param": "after", "value": "*"}}
    nxt = {"*": "c2", "c2": None}

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params["after"]
        return json_response(200, {"next": nxt[after], "results": [after]})

    response = paged(harness, style, {"next_result_token": {"!jq": ".next"}}, handler)
    assert response.body["results"] == ["*", "c2"]
    assert query(harness) == [{"count": "10", "after": "*"}, {"count": "10", "after": "c2"}]


def test_cursor_style_param_without_value_sends_no_first_cursor(harness: Harness) -> None:
    style = {"type": "cursor", "cursor": {"param": "page_token"}}

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("page_token")
        return json_response(200, {"next": None if token else "t2", "results": [token]})

    paged(harness, style, {"next_result_token": {"!jq": ".next"}}, handler)
    assert query(harness) == [{}, {"page_token": "t2"}]


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


def page_by_page(harness: Harness, style: dict[str, Any], parser: dict[str, Any] | None,
                 handler: Any, notices: list[str] | None) -> Any:
    """paginate() itself, each page sent by the client (so through the MockTransport)."""
    client = harness.client(manifest(AUTH, api(style, parser)), handler,
                            Credentials(token=TOKEN))
    settings = client.pagination_settings()
    assert settings is not None

    def fetch(url: str | None, params: dict[str, Any]) -> HttpResponse:
        return client.send(HttpRequest("GET", url or URL, params={} if url else params))

    if notices is None:  # the call as client.py makes it today
        return paginate(settings, fetch, URL, {})
    return paginate(settings, fetch, URL, {}, notice=notices.append)


def test_stopping_at_the_cap_is_noticed(harness: Harness) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        return json_response(200, {"data": [request.url.params["page"]]})

    notices: list[str] = []
    response = page_by_page(harness, PAGE_STYLE, None, endless, notices)
    assert len(response.body["data"]) == MAX_PAGES == len(harness.requests)
    assert notices == [f"pagination stopped at {MAX_PAGES} pages ({MAX_PAGES} items); "
                       "more pages may exist"]
    assert page_by_page(harness, PAGE_STYLE, None, endless, None).body == response.body


def test_no_notice_when_the_last_page_is_the_hundredth(harness: Harness) -> None:
    def exactly(request: httpx.Request) -> httpx.Response:
        return json_response(200, {"pages": MAX_PAGES, "data": [request.url.params["page"]]})

    notices: list[str] = []
    response = page_by_page(harness, PAGE_STYLE, {"total_pages": "pages"}, exactly, notices)
    assert len(response.body["data"]) == MAX_PAGES and notices == []


def test_one_non_empty_array_among_several_is_the_item_array(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return json_response(200, {"data": [page * 10 + 1, page * 10 + 2] if page <= 3 else [],
                                   "errors": [], "total_pages": 3})

    response = paged(harness, PAGE_STYLE, {"total_pages": "total_pages"}, handler)
    assert response.body == {"data": [11, 12, 21, 22, 31, 32], "errors": [], "total_pages": 3}
    assert len(harness.requests) == 3


@pytest.mark.parametrize("style, parser, body", [
    (PAGE_STYLE, {"total_pages": "pages"}, {"pages": 2}),
    (PAGE_STYLE, {"next_page_url": "next"}, {"next": "/items?page=2"}),
    ({"type": "cursor"}, {"next_result_token": "next"}, {"next": "abc"}),
    ({"type": "limitoffset", "limit": {"param": "limit", "value": 2},
      "offset": {"param": "offset"}}, {"total_items": "total"}, {"total": 5}),
])
def test_several_non_empty_arrays_with_more_pages_is_an_error(
        harness: Harness, style: dict[str, Any], parser: dict[str, Any],
        body: dict[str, Any]) -> None:
    page = {"data": [1, 2], "included": [{"id": 9}], "errors": [], **body}
    err = harness.error(lambda: paged(harness, style, parser,
                                      lambda r: json_response(200, page)))
    d = err.diagnostic
    assert d.code == "pagination-items" and d.path == ("api", "pagination")
    assert "several non-empty arrays ('data', 'included')" in d.message
    assert d.hint is not None and '"pagination": true' in d.hint
    assert len(harness.requests) == 1


@pytest.mark.parametrize("style, parser, body", [
    (PAGE_STYLE, None, {}),  # no parser: nothing says there is another page
    (PAGE_STYLE, {"total_pages": "pages"}, {"pages": 1}),
    (PAGE_STYLE, {"next_page_url": "next"}, {"next": None}),
    ({"type": "cursor"}, {"next_result_token": "next"}, {"next": ""}),
    ({"type": "limitoffset", "limit": {"param": "limit", "value": 2},
      "offset": {"param": "offset"}}, {"total_items": "total"}, {"total": 1}),
])
def test_several_non_empty_arrays_on_a_single_page_come_back_as_is(
        harness: Harness, style: dict[str, Any], parser: dict[str, Any] | None,
        body: dict[str, Any]) -> None:
    page = {"data": [1, 2], "included": [{"id": 9}], **body}
    assert paged(harness, style, parser, lambda r: json_response(200, page)).body == page
    assert len(harness.requests) == 1


def test_bare_cursor_after_a_url_cursor_keeps_the_base_params(harness: Harness) -> None:
    style = {"type": "cursor", "limit": {"param": "limit", "value": 3},
             "ordering": {"param": "sort", "value": "asc"},
             "extra": {"param": "fields", "value": "id"}}

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if "page2" in params:
            return json_response(200, {"items": [2], "next": "tokABC"})
        if params.get("cursor") == "tokABC":
            return json_response(200, {"items": [3], "next": None})
        return json_response(200, {"items": [1],
                                   "next": f"{URL}?page2=1&limit=3&sort=asc"})

    response = paged(harness, style, {"next_result_token": "next"}, handler, params={"q": "x"})
    assert response.body["items"] == [1, 2, 3]
    assert query(harness) == [
        {"q": "x", "fields": "id", "limit": "3", "sort": "asc"},
        {"page2": "1", "limit": "3", "sort": "asc"},  # a URL token is fetched as given
        {"q": "x", "fields": "id", "limit": "3", "sort": "asc", "cursor": "tokABC"},
    ]


def test_combined_response_drops_byte_headers(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        raw = json.dumps({"data": [page] if page < 3 else []}).encode()
        return httpx.Response(200, content=gzip.compress(raw), headers={
            "Content-Type": "application/json", "Content-Encoding": "gzip", "X-Total": "2"})

    response = paged(harness, PAGE_STYLE, None, handler)
    assert response.body == {"data": [1, 2]}
    assert response.headers == {"content-type": "application/json", "x-total": "2"}


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
    assert find_items({"a": [], "n": 2}) == ("a", [])
    assert find_items({"a": [1], "b": []}) == ("a", [1])  # the one non-empty array
    assert find_items({"a": [1], "b": [2]}) is None
    assert find_items({"a": [], "b": []}) is None
    assert find_items("text") is None
