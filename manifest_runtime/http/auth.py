"""Auth for `!http` target "connection" (DESIGN §4, reference §2).

* token:   `<header_key>: [<token_prefix> ]<token>`
* basic:   HTTP Basic with username/password
* oauth2:  `Authorization: Bearer <access_token>`; refreshed through `refresh_url` when
           `expires_at` has passed (or is within EXPIRY_SKEW seconds) or on a 401, at most
           REFRESH_TRIES attempts; rotated refresh tokens and the new expiry are reported through
           `on_credentials_changed`
* session: POST `verify_url` (JSON `request_body`, Basic username/password); the response's
           `access_token` is sent as Bearer until `expires_in` runs out or a 401, then verify
           again

Every token obtained at run time is taught to the Redactor before it is used.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..errors import Diagnostic, EvaluationError
from .config import AuthSettings
from .credentials import ENV_VARS, Credentials
from .redact import Redactor
from .types import HttpResponse

REFRESH_TRIES = 3
EXPIRY_SKEW = 30.0  # seconds before expiry at which a token counts as expired

CredentialsChanged = Callable[[Credentials], None]


class PlainSender(Protocol):
    """Sends one request without auth (with retries, remap, record/replay and trace)."""

    def __call__(self, method: str, url: str, *, headers: dict[str, str], json: Any = None,
                 form: dict[str, Any] | None = None, purpose: str = "request",
                 max_attempts: int | None = None) -> HttpResponse: ...


class Auth(Protocol):
    def headers(self) -> dict[str, str]:
        """Headers to add to a request (may refresh or verify first)."""
        ...

    def on_unauthorized(self, used: dict[str, str]) -> bool:
        """A request sent with `used` headers got 401: renew if possible; True = retry it."""
        ...


def basic_header(username: str, password: str) -> str:
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _missing(settings: AuthSettings, *names: str) -> EvaluationError:
    env = ", ".join(ENV_VARS[n] for n in names)
    return EvaluationError(Diagnostic(
        "auth-missing",
        f"auth {settings.name!r} ({settings.type}) needs {' and '.join(names)} in the "
        "credentials",
        settings.where,
        hint=f"pass --credentials FILE with an entry {settings.name!r}, or set {env}",
    ))


def _detail(response: HttpResponse, redactor: Redactor) -> str:
    body = response.body
    text = body if isinstance(body, str) else repr(redactor.value(body))
    text = redactor.text(text)
    return f"HTTP {response.status}" + (f": {text[:200]}" if text else "")


class NoAuth:
    def headers(self) -> dict[str, str]:
        return {}

    def on_unauthorized(self, used: dict[str, str]) -> bool:
        return False


@dataclass(frozen=True)
class TokenAuth:
    settings: AuthSettings
    credentials: Credentials

    def headers(self) -> dict[str, str]:
        token = self.credentials.token
        if not token:
            raise _missing(self.settings, "token")
        prefix = (self.settings.token_prefix or "").strip()  # "Bearer " means "Bearer"
        return {self.settings.header_key: f"{prefix} {token}" if prefix else token}

    def on_unauthorized(self, used: dict[str, str]) -> bool:
        return False


@dataclass(frozen=True)
class BasicAuth:
    settings: AuthSettings
    credentials: Credentials

    def headers(self) -> dict[str, str]:
        c = self.credentials
        if c.username is None or c.password is None:
            raise _missing(self.settings, "username", "password")
        return {"Authorization": basic_header(c.username, c.password)}

    def on_unauthorized(self, used: dict[str, str]) -> bool:
        return False


class OAuth2Auth:
    def __init__(self, settings: AuthSettings, credentials: Credentials, send: PlainSender,
                 now: Callable[[], float], redactor: Redactor,
                 on_credentials_changed: CredentialsChanged | None = None) -> None:
        self.settings = settings
        self.credentials = credentials
        self._send = send
        self._now = now
        self._redactor = redactor
        self._changed = on_credentials_changed
        self._lock = threading.Lock()
        redactor.add(settings.client_secret)

    @property
    def can_refresh(self) -> bool:
        return bool(self.settings.refresh_url and self.credentials.refresh_token)

    def _expired(self) -> bool:
        expires = self.credentials.expires_at
        return expires is not None and self._now() >= expires.timestamp() - EXPIRY_SKEW

    def headers(self) -> dict[str, str]:
        with self._lock:
            if (not self.credentials.access_token or self._expired()) and self.can_refresh:
                self.refresh()
            token = self.credentials.access_token
        if not token:
            raise _missing(self.settings, "access_token")
        return {"Authorization": f"Bearer {token}"}

    def on_unauthorized(self, used: dict[str, str]) -> bool:
        with self._lock:
            current = f"Bearer {self.credentials.access_token}"
            if used.get("Authorization") != current and self.credentials.access_token:
                return True  # another request refreshed meanwhile
            if not self.can_refresh:
                return False
            self.refresh()
            return True

    def refresh(self) -> None:
        """One refresh request with up to REFRESH_TRIES attempts (the client's retry rules:
        connect errors, 429, 503; a 4xx such as invalid_grant is final at once)."""
        s = self.settings
        assert s.refresh_url is not None and self.credentials.refresh_token is not None
        form = {"grant_type": "refresh_token", "refresh_token": self.credentials.refresh_token}
        headers = {"Accept": "application/json"}
        if s.include_client_id:
            form |= {"client_id": s.client_id, "client_secret": s.client_secret}
        elif s.client_id or s.client_secret:
            headers["Authorization"] = basic_header(s.client_id, s.client_secret)
        try:
            response = self._send("POST", s.refresh_url, headers=headers, form=form,
                                  purpose="auth-refresh", max_attempts=REFRESH_TRIES)
        except EvaluationError as exc:
            failure = exc.diagnostic.message
        else:
            body = response.body
            if 200 <= response.status < 300 and isinstance(body, dict) \
                    and isinstance(body.get("access_token"), str) and body["access_token"]:
                self._adopt(body)
                return
            failure = _detail(response, self._redactor)
        raise EvaluationError(Diagnostic(
            "auth-refresh",
            f"auth {s.name!r}: refreshing the OAuth2 token at refresh_url failed "
            f"({self._redactor.text(failure)})",
            s.where,
            hint="reconnect: put a fresh access_token/refresh_token in the credentials file",
        ))

    def _adopt(self, body: dict[str, Any]) -> None:
        access = str(body["access_token"])
        rotated = body.get("refresh_token")
        refresh = str(rotated) if rotated else self.credentials.refresh_token
        self._redactor.add(access, refresh)
        expires_at: datetime | None = None
        expires_in = body.get("expires_in")
        seconds = _seconds(expires_in)
        if seconds is not None:
            expires_at = datetime.fromtimestamp(self._now(), UTC) + \
                timedelta(seconds=seconds)
        self.credentials = self.credentials.updated(access_token=access, refresh_token=refresh,
                                                    expires_at=expires_at)
        if self._changed is not None:
            self._changed(self.credentials)


class SessionAuth:
    def __init__(self, settings: AuthSettings, credentials: Credentials, send: PlainSender,
                 now: Callable[[], float], redactor: Redactor) -> None:
        self.settings = settings
        self.credentials = credentials
        self._send = send
        self._now = now
        self._redactor = redactor
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires: float | None = None  # epoch seconds

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or (
                self._expires is not None and self._now() >= self._expires - EXPIRY_SKEW
            ):
                self._verify()
            return {"Authorization": f"Bearer {self._token}"}

    def on_unauthorized(self, used: dict[str, str]) -> bool:
        with self._lock:
            if used.get("Authorization") != f"Bearer {self._token}":
                return True
            self._verify()
            return True

    def login(self) -> HttpResponse:
        """Log in (POST verify_url) and keep the session a good answer starts: a check of
        the credentials (setup's connect step) is the session's first login, not an extra
        one."""
        with self._lock:
            response = session_login(self.settings, self.credentials, self._send)
            self._keep(response)
            return response

    def _verify(self) -> None:
        response = session_login(self.settings, self.credentials, self._send)
        if not self._keep(response):
            raise EvaluationError(Diagnostic(
                "auth-session",
                f"auth {self.settings.name!r}: session login at verify_url failed "
                f"({_detail(response, self._redactor)})",
                self.settings.where,
                hint="check username/password (a 200 JSON answer with access_token is needed)",
            ))

    def _keep(self, response: HttpResponse) -> bool:
        """The session of a successful login (2xx, a JSON access_token): kept; else False."""
        body = response.body
        token = body.get("access_token") if isinstance(body, dict) else None
        if not 200 <= response.status < 300 or not isinstance(token, str) or not token:
            return False
        self._redactor.add(token)
        self._token = token
        seconds = _seconds(body.get("expires_in"))
        self._expires = self._now() + seconds if seconds is not None else None
        return True


def _seconds(value: Any) -> float | None:
    """`expires_in` as seconds (a number or a numeric string), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def session_login(settings: AuthSettings, credentials: Credentials, send: PlainSender
                  ) -> HttpResponse:
    if credentials.username is None or credentials.password is None:
        raise _missing(settings, "username", "password")
    if not settings.verify_url:
        raise EvaluationError(Diagnostic("invalid-auth", f"auth {settings.name!r} has no "
                                         "verify_url", settings.where))
    body = settings.request_body if settings.request_body is not None else {}
    headers = {"Authorization": basic_header(credentials.username, credentials.password),
               "Accept": "application/json"}
    return send("POST", settings.verify_url, headers=headers, json=body, purpose="auth-verify")


def make_auth(settings: AuthSettings | None, credentials: Credentials, send: PlainSender,
              now: Callable[[], float], redactor: Redactor,
              on_credentials_changed: CredentialsChanged | None = None) -> Auth:
    if settings is None:
        return NoAuth()
    if settings.type == "token":
        return TokenAuth(settings, credentials)
    if settings.type == "basic":
        return BasicAuth(settings, credentials)
    if settings.type == "oauth2":
        return OAuth2Auth(settings, credentials, send, now, redactor, on_credentials_changed)
    return SessionAuth(settings, credentials, send, now, redactor)


def check_credentials(settings: AuthSettings, credentials: Credentials, send: PlainSender,
                      now: Callable[[], float], redactor: Redactor,
                      on_credentials_changed: CredentialsChanged | None = None,
                      session: SessionAuth | None = None) -> tuple[bool, str]:
    """Are these credentials valid? GET verify_url (token, basic) or POST it (session): only
    HTTP 200 counts. oauth2 has no verify_url: a refresh is tried when possible, and its new
    (possibly rotated) tokens go to `on_credentials_changed`. A session login goes through
    `session` when given (the client's own auth for these credentials): it keeps the
    session, so the requests that follow do not log in again."""
    redactor.add(*credentials.secret_values())
    if credentials.username is not None or credentials.password is not None:
        redactor.add_basic(credentials.username, credentials.password)
    try:
        if settings.type == "session":
            response = session.login() if session is not None else \
                session_login(settings, credentials, send)
        elif settings.type == "oauth2":
            auth = OAuth2Auth(settings, credentials, send, now, redactor, on_credentials_changed)
            if auth.can_refresh:
                auth.refresh()
                return True, "the OAuth2 token was refreshed"
            if credentials.access_token:
                return True, "an access token is present (oauth2 has no verify_url)"
            return False, "no access_token or refresh_token in the credentials"
        else:
            if not settings.verify_url:
                return False, f"auth {settings.name!r} has no verify_url"
            auth_headers = make_auth(settings, credentials, send, now, redactor).headers()
            response = send("GET", settings.verify_url, headers=auth_headers,
                            purpose="auth-verify")
    except EvaluationError as exc:
        return False, redactor.text(exc.diagnostic.message)
    if settings.type == "session" and isinstance(response.body, dict):
        redactor.add(str(response.body.get("access_token") or ""))
    return response.status == 200, _detail(response, redactor)
