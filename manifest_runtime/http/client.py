"""`HttpClient`: the production HttpService (DESIGN §4).

One pooled, thread-safe sync `httpx.Client` (DESIGN §8: a pooled sync client is ~30x faster
than a client per request and faster than AsyncClient here). Per request:

    target activecampaign -> the `ac` handler
    pagination            -> pagination.Paginator, each page through the steps below
    auth (connection)     -> headers from auth.py; one renewal + resend on 401
    rate limit            -> shared token bucket (connection only)
    attempts              -> retries with backoff (retry.py), remap, record/replay, trace
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import httpx

from ..errors import Diagnostic, EvaluationError
from ..model import CompiledManifest
from .auth import Auth, CredentialsChanged, check_credentials, make_auth
from .cassette import Cassette
from .config import AuthSettings, api_value, auth_settings, resolve
from .credentials import Credentials
from .pagination import PaginationSettings, paginate, pagination_settings
from .ratelimit import RateLimiter, build_rate_limiter
from .redact import Redactor
from .remap import Remap, apply_remaps
from .retry import RetryPolicy, is_retryable_status
from .trace import TraceEvent, TraceFn
from .types import HttpRequest, HttpResponse

AcHandler = Callable[[HttpRequest], HttpResponse]
Clock = Callable[[], float]
Sleep = Callable[[float], None]

_UNSET: Any = object()


def _parse_body(response: httpx.Response) -> Any:
    """JSON when it parses, else the text ("" when empty), like simple.py."""
    text = response.text
    if not text:
        return ""
    try:
        return jsonlib.loads(text)
    except ValueError:
        return text


class HttpClient:
    """Implements HttpService for one manifest + workflow auth. Safe for concurrent callers."""

    def __init__(
        self,
        compiled: CompiledManifest,
        auth_name: str | None,
        *,
        credentials: Credentials | None = None,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 3,
        timeout: float = 30.0,
        remaps: Iterable[Remap] = (),
        record: str | None = None,
        replay: str | None = None,
        trace: TraceFn | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        ac: AcHandler | None = None,
        on_credentials_changed: CredentialsChanged | None = None,
        retry: RetryPolicy | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        if record is not None and replay is not None:
            raise ValueError("record and replay cannot be used together")
        self.compiled = compiled
        self.auth_name = auth_name
        self.credentials = credentials or Credentials()
        self.redactor = redactor or Redactor()
        self.redactor.add(*self.credentials.secret_values())
        self.redactor.add_basic(self.credentials.username, self.credentials.password)
        self.retry = retry or RetryPolicy(max_attempts=max_attempts)
        self.timeout = timeout
        self.remaps = tuple(remaps)
        self.trace = trace
        self.clock = clock
        self.sleep = sleep
        self.ac = ac
        self.on_credentials_changed = on_credentials_changed
        self.cassette: Cassette | None = None
        if record is not None:
            self.cassette = Cassette(record, "record", self.redactor)
        elif replay is not None:
            self.cassette = Cassette(replay, "replay", self.redactor)
        self.replaying = replay is not None
        self._http = httpx.Client(transport=transport, timeout=timeout,
                                  follow_redirects=True)
        self.rate_limiter: RateLimiter = build_rate_limiter(api_value(compiled, "rate_limit"),
                                                            clock, sleep)
        self._lock = threading.Lock()
        self._auth: Auth | None = None
        self._settings: Any = _UNSET
        self._pagination: Any = _UNSET

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- manifest-derived settings (resolved lazily: ${subdomain} may be needed) -------------

    @property
    def subdomain(self) -> str | None:
        return self.credentials.subdomain

    @property
    def base_url(self) -> str:
        """api.base_url with ${subdomain} filled in ('' when absent)."""
        value = resolve(self.compiled, ("api", "base_url"), self.subdomain)
        return "" if value is None else str(value)

    def auth_settings(self) -> AuthSettings | None:
        if self._settings is not _UNSET:  # resolved once; no lock on the hot path
            resolved: AuthSettings | None = self._settings
            return resolved
        with self._lock:
            if self._settings is _UNSET:
                self._settings = auth_settings(self.compiled, self.auth_name, self.subdomain)
            settings: AuthSettings | None = self._settings
            return settings

    def _auth_for(self, target: str) -> Auth:
        if target == "connection" and self._auth is not None:
            return self._auth
        settings = self.auth_settings() if target == "connection" else None
        if settings is None:
            return make_auth(None, self.credentials, self._send_plain, self.clock,
                             self.redactor)
        with self._lock:
            if self._auth is None:
                self._auth = make_auth(settings, self.credentials, self._send_plain, self.clock,
                                       self.redactor, self._credentials_changed)
            return self._auth

    def _credentials_changed(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.redactor.add(*credentials.secret_values())
        if self.on_credentials_changed is not None:
            self.on_credentials_changed(credentials)

    def pagination_settings(self) -> PaginationSettings | None:
        with self._lock:
            if self._pagination is _UNSET:
                self._pagination = pagination_settings(self.compiled)
            settings: PaginationSettings | None = self._pagination
            return settings

    # -- HttpService ---------------------------------------------------------------------------

    def send(self, request: HttpRequest) -> HttpResponse:
        if request.target == "activecampaign":
            if self.ac is None:
                raise EvaluationError(Diagnostic(
                    "http-activecampaign",
                    f"!http target 'activecampaign' ({request.method} "
                    f"{self.redactor.url(request.url)}) needs an ActiveCampaign account, "
                    "and none is configured",
                    request.where,
                    hint="run with the sandbox account or pass --ac-url and --ac-token",
                ))
            return self.ac(request)
        settings = self.pagination_settings() if request.pagination else None
        if settings is None:
            return self._send_authed(request)

        def fetch(url: str | None, params: dict[str, Any]) -> HttpResponse:
            page = replace(request, params={**request.params, **params}) if url is None \
                else replace(request, url=url, params={})
            return self._send_authed(page)

        roots = {"subdomain": self.subdomain} if self.subdomain is not None else {}
        return paginate(settings, fetch, request.url, roots)

    def verify(self, credentials: Credentials | None = None) -> tuple[bool, str]:
        """Check credentials against the auth's verify_url (200 = valid); (ok, detail)."""
        creds = credentials or self.credentials
        settings = auth_settings(self.compiled, self.auth_name, creds.subdomain)
        if settings is None:
            return False, f"the workflow's auth {self.auth_name!r} is not declared"
        return check_credentials(settings, creds, self._send_plain, self.clock, self.redactor)

    # -- internals -----------------------------------------------------------------------------

    def _send_authed(self, request: HttpRequest) -> HttpResponse:
        auth = self._auth_for(request.target)
        limited = request.target == "connection"
        auth_headers = auth.headers()
        response = self._attempts(request, auth_headers, limited, "request")
        if response.status == 401 and auth.on_unauthorized(auth_headers):
            response = self._attempts(request, auth.headers(), limited, "request")
        return response

    def _send_plain(self, method: str, url: str, *, headers: dict[str, str], json: Any = None,
                    form: dict[str, Any] | None = None, purpose: str = "request"
                    ) -> HttpResponse:
        request = HttpRequest(method=method, url=url, target="external", headers=headers,
                              json=json, form=form)
        return self._attempts(request, {}, False, purpose)

    def _attempts(self, request: HttpRequest, auth_headers: dict[str, str], limited: bool,
                  purpose: str) -> HttpResponse:
        headers = {**request.headers, **auth_headers}
        url = str(httpx.URL(request.url).copy_merge_params(_query(request.params))) \
            if request.params else request.url
        body = request.form if request.form is not None else request.json
        attempts = self.retry.max_attempts
        for attempt in range(1, attempts + 1):
            if limited and not self.replaying:
                self.rate_limiter.acquire(request.method)
            started = self.clock()
            try:
                response = self._exchange(request, url, headers, body)
            except httpx.TransportError as exc:
                self._trace(request.method, url, attempt, started, None, exc, purpose)
                if attempt == attempts:
                    raise self._transport_error(request, url, exc, attempts) from None
                self.sleep(self.retry.delay(attempt, None, self.clock()))
                continue
            self._trace(request.method, url, attempt, started, response.status, None, purpose)
            if attempt == attempts or not is_retryable_status(response.status):
                return response
            if not self.replaying:
                self.sleep(self.retry.delay(attempt, response.headers.get("retry-after"),
                                            self.clock()))
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, request: HttpRequest, url: str, headers: dict[str, str], body: Any
                  ) -> HttpResponse:
        if self.cassette is not None and self.replaying:
            return self.cassette.play(request.method, url, headers, body, request.where)
        actual = apply_remaps(url, self.remaps)
        kwargs: dict[str, Any] = {}
        if request.form is not None:
            kwargs["data"] = {k: [_form_text(x) for x in v] if isinstance(v, list)
                              else _form_text(v) for k, v in request.form.items()}
        elif request.json is not None:
            kwargs["json"] = request.json
        raw = self._http.request(request.method, actual, headers=headers, **kwargs)
        response = HttpResponse(raw.status_code, {k.lower(): v for k, v in raw.headers.items()},
                                _parse_body(raw))
        if self.cassette is not None:
            self.cassette.record(request.method, url, headers, body, response)
        return response

    def _trace(self, method: str, url: str, attempt: int, started: float, status: int | None,
               error: Exception | None, purpose: str) -> None:
        if self.trace is None:
            return
        self.trace(TraceEvent(
            method=method, url=self.redactor.url(url), attempt=attempt,
            elapsed_ms=(self.clock() - started) * 1000.0, status=status,
            error=None if error is None else self.redactor.text(_describe(error)),
            purpose=purpose, replayed=self.replaying,
        ))

    def _transport_error(self, request: HttpRequest, url: str, exc: httpx.TransportError,
                         attempts: int) -> EvaluationError:
        timed_out = isinstance(exc, httpx.TimeoutException)
        what = f"timed out after {self.timeout:g} s" if timed_out else _describe(exc)
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        return EvaluationError(Diagnostic(
            "http-timeout" if timed_out else "http-connect",
            self.redactor.text(f"{request.method} {self.redactor.url(url)} failed: {what} "
                               f"({tries})"),
            request.where,
            hint="check the URL and your network, or --remap the host to a local fake",
        ))


def _query(params: dict[str, Any]) -> dict[str, Any]:
    """Query values as text: lists repeat the name, objects become compact JSON."""
    return {k: [_form_text(x) for x in v] if isinstance(v, list) else _form_text(v)
            for k, v in params.items()}


def _form_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return jsonlib.dumps(value, separators=(",", ":"))


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


__all__ = ["AcHandler", "HttpClient"]
