"""Redaction: credential values never reach a trace, an error message or a cassette.

A `Redactor` knows every secret value in play (credentials from the file or environment, and
anything obtained at run time such as OAuth access tokens) and replaces each occurrence with
`***` in strings and JSON-like values. Names that usually carry secrets (`password`,
`client_secret`, `api_key`, ...) are scrubbed by name as well, see `is_secret_name`.

A username is not a secret value: masking it wherever it occurs as a substring mangles ordinary
text (username `user` would turn `/v3/users/list` into `/v3/***s/list`), and some APIs put it
in URLs (Twilio's Account SID is the Basic username), which a masked cassette could not replay.
It is masked inside the Basic header (the base64 of `username:password`, see `add_basic`) and
under a secret-looking name; the password is masked everywhere.

`scoped(values)` adds secrets for the current thread only, while a block runs: `serve` masks
the secrets of the webhook in hand (its authorization, cookie, signature headers, its secret
query values) in every trace, error and dead letter of that webhook, without keeping every
request's signature in the run-wide set.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary text everywhere; scrubbed by name only

# Field names whose values are secrets wherever they appear (request or response).
TOKEN_FIELDS = frozenset({
    "access_token", "refresh_token", "id_token", "client_secret", "password", "passwd",
    "secret", "api_key", "apikey", "session_token", "auth_token",
})
# Header names whose values are always secrets.
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
    "x-auth-token", "x-access-token",
})
_EXACT = frozenset({"key", "token", "secret", "password", "passwd", "pwd", "signature", "sig",
                    "auth", "authorization", "cookie", "session", "sessionid"})
_CONTAINS = ("token", "secret", "password", "passwd", "signature", "apikey", "api_key",
             "api-key", "access_key", "private_key", "credential")


def is_secret_name(name: str) -> bool:
    """Does a query parameter, form field or header with this name carry a secret?"""
    lowered = name.lower()
    if lowered in _EXACT or lowered in SECRET_HEADERS:
        return True
    return any(part in lowered for part in _CONTAINS) or lowered.endswith(("_key", "-key"))


def _forms(values: Iterable[str | None]) -> frozenset[str]:
    """Values worth masking, with their URL-encoded forms (short or empty ones: none)."""
    fresh: set[str] = set()
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH:
            fresh.update({value, quote(value, safe=""), quote_plus(value)})
    return frozenset(fresh)


def _pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(secrets, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None


class Redactor:
    """Replaces known secret values with `***`. Thread-safe; values can be added at run time."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._scope = threading.local()  # .values: this thread's scoped secrets; .pattern
        self.add(*secrets)

    def add(self, *values: str | None) -> None:
        """Learn secret values (and their URL-encoded forms). Short or empty values are ignored."""
        fresh = _forms(values)
        with self._lock:
            if fresh - self._secrets:
                self._secrets |= fresh
                self._pattern = _pattern(self._secrets)

    @contextmanager
    def scoped(self, values: Iterable[str | None]) -> Iterator[None]:
        """Mask `values` too, in this thread, until the block ends (nested scopes add up)."""
        outer: frozenset[str] = getattr(self._scope, "values", frozenset())
        fresh = outer | _forms(values)
        self._scope.values, self._scope.pattern = fresh, None
        try:
            yield
        finally:
            self._scope.values, self._scope.pattern = outer, None

    def add_basic(self, username: str | None, password: str | None) -> None:
        """Learn a Basic credential pair: the password and the base64 header form of the pair.
        The username alone is not a secret value (see the module docstring)."""
        self.add(password)
        if username is not None or password is not None:
            pair = f"{username or ''}:{password or ''}".encode()
            self.add(base64.b64encode(pair).decode("ascii"))

    @property
    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def text(self, text: str) -> str:
        pattern = self._pattern
        scoped = getattr(self._scope, "values", None)
        if scoped:  # one pattern, longest first: a secret inside another is masked whole
            cached = getattr(self._scope, "pattern", None)
            if cached is None or cached[0] is not pattern:
                with self._lock:
                    cached = (pattern, _pattern(self._secrets | scoped))
                self._scope.pattern = cached
            pattern = cached[1]
        return pattern.sub(MASK, text) if pattern is not None else text

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with secrets masked (by value, and by token field name)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: MASK if isinstance(k, str) and k.lower() in TOKEN_FIELDS and v
                    else self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: MASK if is_secret_name(k) else self.text(v) for k, v in headers.items()}

    def fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Form fields or a JSON request body: secret-named fields masked, values scrubbed."""
        return {k: MASK if is_secret_name(k) and v not in (None, "") else self.value(v)
                for k, v in fields.items()}

    def url(self, url: str) -> str:
        """A URL with secret-named query parameters and userinfo masked, values scrubbed."""
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs],
                              safe="*")
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
