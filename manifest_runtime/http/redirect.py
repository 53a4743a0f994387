"""Redirects, followed by hand (not by httpx) so that each hop is remapped, traced and
recorded like any request, and credentials never follow a redirect to another origin (httpx
strips only `Authorization`, not a token in `X-Api-Key`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from .remap import origin_of

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Hop:
    method: str
    url: str
    keeps_body: bool
    same_origin: bool


def next_hop(method: str, url: str, status: int, location: str) -> Hop:
    """Where a redirect leads: 303 (and 301/302 after a POST) become a GET without a body,
    as browsers and httpx do; 307/308 repeat the request as it was."""
    target = urljoin(url, location)
    to_get = status == 303 or (status in (301, 302) and method.upper() == "POST")
    return Hop("GET" if to_get else method, target, not to_get,
               origin_of(target) == origin_of(url))
