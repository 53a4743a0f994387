"""`--remap FROM=TO`: rewrite the scheme+host+port of request URLs (e.g. to a local fake)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ..errors import UsageError

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def netloc(self) -> str:
        default = _DEFAULT_PORTS.get(self.scheme)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Remap:
    source: Origin
    target: Origin

    def apply(self, url: str) -> str | None:
        """The rewritten URL when `url` is on the source origin, else None."""
        origin = origin_of(url)
        if origin != self.source:
            return None
        parts = urlsplit(url)
        return urlunsplit((self.target.scheme, self.target.netloc, parts.path, parts.query,
                           parts.fragment))


def origin_of(url: str) -> Origin | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return Origin(scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme])


def _parse_origin(text: str, side: str, whole: str) -> Origin:
    origin = origin_of(text)
    parts = urlsplit(text)
    if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment \
            or "@" in parts.netloc:
        raise UsageError(f"--remap {whole!r}: {side} must be scheme://host[:port] "
                         f"(e.g. https://api.example.com=http://127.0.0.1:8080), got {text!r}")
    return origin


def parse_remap(text: str) -> Remap:
    """Parse `FROM=TO`; raises UsageError when either side is not scheme://host[:port]."""
    source, sep, target = text.partition("=")
    if not sep or not source.strip() or not target.strip():
        raise UsageError(f"--remap {text!r}: expected FROM=TO, e.g. "
                         "https://api.example.com=http://127.0.0.1:8080")
    return Remap(_parse_origin(source.strip(), "FROM", text),
                 _parse_origin(target.strip(), "TO", text))


def apply_remaps(url: str, remaps: Iterable[Remap]) -> str:
    """The URL after the first matching remap (unchanged when none matches)."""
    for remap in remaps:
        rewritten = remap.apply(url)
        if rewritten is not None:
            return rewritten
    return url


def unapply_remaps(url: str, remaps: Iterable[Remap]) -> str:
    """Map a URL on a remap's target back to its source (e.g. a redirect Location from the
    local fake), so traces, cassettes and origin checks stay in the manifest's terms."""
    for remap in remaps:
        if origin_of(url) == remap.target:
            parts = urlsplit(url)
            return urlunsplit((remap.source.scheme, remap.source.netloc, parts.path,
                               parts.query, parts.fragment))
    return url
