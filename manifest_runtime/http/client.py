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
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, EvaluationError
from ..model import CompiledManifest
from .body import parse_body
from .cassette import DEFAULT_MATCH, Cassette
from .config import AuthSettings, api_value, auth_settings, resolve
from .credentials import Credentials
from .ratelimit import RateLimiter, build_rate_limiter
from .redact import Redactor
from .remap import Remap, apply_remaps, unapply_remaps
from .retry import RetryPolicy
from .trace import TraceEvent, TraceFn
from .types import HttpRequest, HttpResponse

if TYPE_CHECKING:
    import httpx

    from .auth import Auth, CredentialsChanged
    from .pagination import PaginationSettings

# auth, pagination and redirects load with the first request that needs them (start-up: a
# run whose target is the sandbox sends none)

AcHandler = Callable[[HttpRequest], HttpResponse]
Clock = Callable[[], float]
Sleep = Callable[[float], None]

_UNSET: Any = object()
NOTICE_WAIT = 1.0  # waits this long or longer are announced through `notice`
REPLAY_PLACEHOLDER = "replay-placeholder"


def load_httpx() -> Any:
    """httpx, imported on the first request (a run with no HTTP of its own never pays for it),
    without its command-line client: httpx's `__init__` imports click, rich and pygments for
    it (~35 ms of start-up) when they are installed, and falls back to a stub when not."""
    if _HTTPX:
        return _HTTPX[0]
    import sys

    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    # httpcore imports trio, when installed, for its async connections under a trio event loop,
    # which this package never runs (its clients are sync): ~70 ms of start-up. trio is hidden
    # while httpcore loads and visible again after it, for anything else that imports it.
    hide_trio = "trio" not in sys.modules and "httpcore" not in sys.modules
    if hide_trio:
        sys.modules["trio"] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401  (now, while trio is hidden; httpx imports it lazily)
        import httpx
    finally:
        if hide_trio and sys.modules.get("trio", 0) is None:
            del sys.modules["trio"]

    _HTTPX.append(httpx)
    return httpx


_HTTPX: list[Any] = []  # the module, once loaded


def _not_sent(exc: Exception) -> bool:
    """Did the request surely never reach the server?"""
    httpx = load_httpx()
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _parse_body(response: httpx.Response) -> Any:
    """JSON when it parses, else the text ("" when empty), like simple.py (body.py)."""
    return parse_body(response.content, response.encoding, lambda: response.text)


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
        notice: Callable[[str], None] | None = None,
        retry_unsafe: bool = False,
        record_mode: str = "append",
        match: tuple[str, ...] = DEFAULT_MATCH,
    ) -> None:
        if record is not None and replay is not None:
            raise ValueError("record and replay cannot be used together")
        self.compiled = compiled
        self.auth_name = auth_name
        self.credentials = credentials or Credentials()
        self.redactor = redactor or Redactor()
        self.redactor.add(*self.credentials.secret_values())
        self.redactor.add_basic(self.credentials.username, self.credentials.password)
        self.retry = retry or RetryPolicy(max_attempts=max_attempts, retry_unsafe=retry_unsafe)
        self.notice = notice
        self.timeout = timeout
        self.remaps = tuple(remaps)
        self.trace = trace
        self.clock = clock
        self.sleep = sleep
        self.ac = ac
        self.on_credentials_changed = on_credentials_changed
        self.cassette: Cassette | None = None
        if record is not None:
            self.cassette = Cassette(record, "record", self.redactor, record_mode=record_mode)
        elif replay is not None:
            self.cassette = Cassette(replay, "replay", self.redactor, match=match)
        self.replaying = replay is not None
        if self.replaying:  # a cassette needs no real credentials: it was recorded scrubbed
            self.credentials = with_placeholders(self.credentials)
        self._transport = transport
        self._client: httpx.Client | None = None  # made on the first request (_http)
        self._client_lock = threading.Lock()
        self.rate_limiter: RateLimiter = build_rate_limiter(api_value(compiled, "rate_limit"),
                                                            clock, sleep)
        self._lock = threading.Lock()
        self._auth: Auth | None = None
        self._settings: Any = _UNSET
        self._pagination: Any = _UNSET

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def _http(self) -> httpx.Client:
        """The pooled client, made on first use: a run whose requests all go to the sandbox
        or a cassette never loads httpx nor its TLS context."""
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = load_httpx().Client(
                        transport=self._transport, timeout=self.timeout,
                        follow_redirects=False)  # redirect.py follows them
                client = self._client
        return client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

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
        from .auth import make_auth

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
        # replayed tokens are the cassette's "***": never let them overwrite real ones
        if self.on_credentials_changed is not None and not self.replaying:
            self.on_credentials_changed(credentials)

    def _verified_rotation(self, credentials: Credentials) -> None:
        """verify() refreshed an oauth2 token: keep it, and rebuild auth around it."""
        with self._lock:
            self._auth = None
        self._credentials_changed(credentials)

    def pagination_settings(self) -> PaginationSettings | None:
        from .pagination import pagination_settings

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

        from .pagination import paginate

        roots = {"subdomain": self.subdomain} if self.subdomain is not None else {}
        return paginate(settings, fetch, request.url, roots, notice=self._notify)

    def send_account(self, request: HttpRequest, auth_headers: dict[str, str],
                     limiter: RateLimiter) -> HttpResponse:
        """One call of an ActiveCampaign account's v3 API (activecampaign/v3.py): the same
        attempts as `!http` (retries, remaps, record/replay, trace, redaction) with the
        account's own token header and its own rate limit."""
        return self._attempts(request, auth_headers, True, "request", limiter=limiter)

    def verify(self, credentials: Credentials | None = None) -> tuple[bool, str]:
        """Check credentials against the auth's verify_url (200 = valid); (ok, detail)."""
        from .auth import SessionAuth, check_credentials

        creds = credentials or self.credentials
        settings = auth_settings(self.compiled, self.auth_name, creds.subdomain)
        if settings is None:
            return False, f"the workflow's auth {self.auth_name!r} is not declared"
        own = self._auth_for("connection") \
            if settings.type == "session" and creds is self.credentials else None
        return check_credentials(settings, creds, self._send_plain, self.clock, self.redactor,
                                 self._verified_rotation,
                                 own if isinstance(own, SessionAuth) else None)

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
                    form: dict[str, Any] | None = None, purpose: str = "request",
                    max_attempts: int | None = None) -> HttpResponse:
        request = HttpRequest(method=method, url=url, target="external", headers=headers,
                              json=json, form=form)
        return self._attempts(request, {}, False, purpose, max_attempts)

    def _attempts(self, request: HttpRequest, auth_headers: dict[str, str], limited: bool,
                  purpose: str, max_attempts: int | None = None,
                  limiter: RateLimiter | None = None) -> HttpResponse:
        httpx = load_httpx()
        headers = merge_headers(request.headers, auth_headers)
        url = str(httpx.URL(request.url).copy_merge_params(_query(request.params))) \
            if request.params else request.url
        body = request.form if request.form is not None else request.json
        secret_headers = frozenset({"authorization", *(k.lower() for k in auth_headers)})
        attempts = max_attempts or self.retry.max_attempts
        for attempt in range(1, attempts + 1):
            if limited and not self.replaying:
                (limiter or self.rate_limiter).acquire(request.method)
            started = self.clock()
            try:
                response = self._exchange(request, url, headers, body, secret_headers, attempt,
                                          purpose)
            except httpx.TransportError as exc:
                self._trace(request.method, url, attempt, started, None, exc, purpose)
                left = not _not_sent(exc)
                if attempt == attempts or not self.retry.retries_failure(request.method, left):
                    raise self._transport_error(request, url, exc, attempt,
                                                unsafe=attempt < attempts, left=left) from None
                self._wait(self.retry.delay(attempt, None, self.clock()), request.method, url,
                           attempt)
                continue
            except httpx.HTTPError as exc:  # undecodable body, too many redirects: no retry
                self._trace(request.method, url, attempt, started, None, exc, purpose)
                raise self._transport_error(request, url, exc, attempt) from None
            self._trace(request.method, response.url or url, attempt, started, response.status,
                        None, purpose)
            if attempt == attempts or not self.retry.retries_status(
                    request.method, response.status, response.headers):
                return response
            if self.replaying:
                continue
            retry_after = response.headers.get("retry-after")
            delay = self.retry.delay(attempt, retry_after, self.clock())
            if delay is None:
                self._notify(f"{request.method} {self.redactor.url(url)}: HTTP "
                             f"{response.status} asks to wait {retry_after!r} before retrying, "
                             f"more than {self.retry.max_retry_after:g} s: not retrying")
                return response
            self._wait(delay, request.method, url, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, seconds: float | None, method: str, url: str, attempt: int) -> None:
        if not seconds:
            return
        if seconds >= NOTICE_WAIT:
            self._notify(f"waiting {seconds:.1f} s before retrying {method} "
                         f"{self.redactor.url(url)} (attempt {attempt + 1})")
        self.sleep(seconds)

    def _notify(self, message: str) -> None:
        if self.notice is not None:
            self.notice(self.redactor.text(message))

    def _exchange(self, request: HttpRequest, url: str, headers: dict[str, str], body: Any,
                  secret_headers: frozenset[str], attempt: int, purpose: str) -> HttpResponse:
        """One attempt: the request and the redirects it leads to (each hop remapped,
        recorded and traced; credentials dropped when a hop leaves the origin)."""
        from .redirect import MAX_REDIRECTS, REDIRECT_STATUSES, next_hop

        method = request.method
        for _ in range(MAX_REDIRECTS + 1):
            started = self.clock()
            response = self._exchange_once(request, method, url, headers, body)
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                return replace(response, url=url)
            self._trace(method, url, attempt, started, response.status, None, "redirect")
            hop = next_hop(method, url, response.status, unapply_remaps(location, self.remaps))
            if not hop.same_origin:
                headers = {k: v for k, v in headers.items() if k.lower() not in secret_headers}
            method, url, body = hop.method, hop.url, body if hop.keeps_body else None
        raise load_httpx().TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")

    def _exchange_once(self, request: HttpRequest, method: str, url: str,
                       headers: dict[str, str], body: Any) -> HttpResponse:
        if self.cassette is not None and self.replaying:
            return self.cassette.play(method, url, headers, body, request.where)
        actual = apply_remaps(url, self.remaps)
        kwargs: dict[str, Any] = {}
        if body is not None and request.form is not None:
            kwargs["data"] = {k: [_form_text(x) for x in v] if isinstance(v, list)
                              else _form_text(v) for k, v in body.items()}
        elif body is not None:
            kwargs["json"] = body
        raw = self._http.request(method, actual, headers=headers, **kwargs)
        response = HttpResponse(raw.status_code, {k.lower(): v for k, v in raw.headers.items()},
                                _parse_body(raw))
        if self.cassette is not None:
            self.cassette.record(method, url, headers, body, response)
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

    def _transport_error(self, request: HttpRequest, url: str, exc: httpx.HTTPError,
                         attempts: int, unsafe: bool = False, left: bool = False
                         ) -> EvaluationError:
        httpx = load_httpx()
        timed_out = isinstance(exc, httpx.TimeoutException)
        what = f"timed out after {self.timeout:g} s" if timed_out else _describe(exc)
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        hint = "check the URL and your network, or --remap the host to a local fake"
        if unsafe:
            hint = (f"{request.method} is not retried once the request may have reached the "
                    "server (it could act twice); --retry-unsafe retries it anyway")
        elif not isinstance(exc, httpx.TransportError):
            hint = "the server's answer could not be used; --trace shows the attempts"
        kind = MaybeSent if left else EvaluationError
        return kind(Diagnostic(
            "http-timeout" if timed_out else "http-connect",
            self.redactor.text(f"{request.method} {self.redactor.url(url)} failed: {what} "
                               f"({tries})"),
            request.where,
            hint=hint,
        ))


class MaybeSent(EvaluationError):
    """A transport failure after the request may have reached the server (a read timeout, a
    dropped connection): whether it acted is unknown."""


def with_placeholders(credentials: Credentials) -> Credentials:
    """Fill the missing secret fields for a replay (auth headers are not compared)."""
    return credentials.updated(**{
        name: getattr(credentials, name) or REPLAY_PLACEHOLDER
        for name in ("token", "username", "password", "access_token", "refresh_token")})


def merge_headers(headers: dict[str, str], auth_headers: dict[str, str]) -> dict[str, str]:
    """The request's headers with the auth headers on top; names compare case-insensitively,
    so a manifest's `authorization` header cannot sit beside the auth's `Authorization`."""
    if not auth_headers:
        return dict(headers)
    names = {k.lower() for k in auth_headers}
    return {**{k: v for k, v in headers.items() if k.lower() not in names}, **auth_headers}


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
