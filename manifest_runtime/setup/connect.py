"""The connect step (reference §5.2): the credentials the auth needs (answered over
--credentials FILE and the MANIFEST_RUNTIME_* variables), checked against the auth's
`verify_url` (asked again when refused, on a terminal), then `describe_connection`.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

from ..errors import EvaluationError, ManifestRuntimeError, UsageError
from ..http.credentials import ENV_VARS, FIELDS, Credentials, credentials_from_mapping
from ..paths import Path
from ..runtime.errors import excerpt, with_location
from .model import (
    UNANSWERED,
    Action,
    AnswerError,
    CredentialField,
    CredentialsRequest,
    SetupError,
    answer_error,
)
from .values import as_dict, as_str

if TYPE_CHECKING:
    from .flow import SetupFlow

SECRETS = frozenset({"token", "password", "access_token", "refresh_token"})
AUTH_FIELDS = {"token": ("token",), "basic": ("username", "password"),
               "session": ("username", "password"),
               "oauth2": ("access_token", "refresh_token")}
DEFAULT_LABELS = {"token": "Token", "username": "Username", "password": "Password",
                  "subdomain": "Subdomain", "access_token": "Access token",
                  "refresh_token": "Refresh token"}


class ConnectStep:
    """Credentials, their check, and the connection description."""

    def __init__(self, flow: SetupFlow) -> None:
        self.flow = flow

    def connect(self) -> tuple[Credentials, str, dict[str, Any] | None]:
        step = as_dict(self.flow.steps.get("connect"))
        self.flow.answerer.begin("connect", as_str(step.get("label")),
                                 as_str(step.get("help_text")))
        again = False
        while True:
            credentials, verified = self.flow.ask(self._connect_once, retry=again)
            assert self.flow.http is not None
            self.flow.env = self.flow.make_env(self.flow.http)
            path = self.flow.path("connect", "describe_connection")
            if self.flow.compiled.node_at(path) is None:
                return credentials, verified, None
            while True:
                try:
                    output = self.flow.evaluate(path)
                except ManifestRuntimeError as exc:
                    action = self.flow.recover(exc, [Action("back", "Enter the credentials again")])
                    if action == "back":
                        break
                    continue
                return credentials, verified, self._connection(output, path)
            again = True

    def credential_fields(self, given: Credentials) -> tuple[CredentialField, ...]:
        defined = as_dict(self.flow.auth.get("defined_fields"))
        kind = as_str(self.flow.auth.get("type")) or ""
        names = AUTH_FIELDS.get(kind, ())
        if "subdomain" in defined:
            names = ("subdomain", *names)
        out = []
        for name in names:
            spec = as_dict(defined.get(name))
            out.append(CredentialField(
                name=name, label=as_str(spec.get("label")) or DEFAULT_LABELS[name],
                secret=name in SECRETS, required=kind != "oauth2" or name == "subdomain",
                placeholder=as_str(spec.get("placeholder")),
                help_text=as_str(spec.get("help_text")),
                given=getattr(given, name) is not None))
        return tuple(out)

    def _connect_once(self, retry: bool) -> tuple[Credentials, str]:
        self.flow.close()
        step = as_dict(self.flow.steps.get("connect"))
        request = CredentialsRequest(
            auth_name=self.flow.auth_name or "",
            auth_type=as_str(self.flow.auth.get("type")) or "",
            label=as_str(step.get("label")) or "Connect",
            help_text=as_str(step.get("help_text")),
            fields=self.credential_fields(self.flow.base_credentials),
            replaying=self.flow.replaying, retry=retry)
        raw = self.flow.answerer.credentials(request)
        credentials = self._merge_credentials(raw)
        self.flow.answered.pop("credentials", None)
        if isinstance(raw, dict) and raw:
            self.flow.answered["credentials"] = dict(raw)
        self._check_complete(credentials, request)
        http = self.flow.http = self.flow.open_http(credentials)
        try:
            ok, detail = http.verify()
        except EvaluationError as exc:  # e.g. ${subdomain} in verify_url with no subdomain
            raise SetupError(with_location(exc.diagnostic, self.flow.compiled.source)) from None
        if not ok:
            raise self._refused(request, detail)
        settings = http.auth_settings()
        url = settings.verify_url if settings is not None else None
        if request.auth_type == "oauth2" or not url:
            verified = f"accepted ({detail})"
        else:
            method = "POST" if request.auth_type == "session" else "GET"
            verified = f"verified: {method} {http.redactor.url(url)} -> {detail.split(':')[0]}"
        if self.flow.replaying:
            verified += ", replayed"
            kept = credentials  # the client holds the cassette's placeholders
        else:
            kept = http.credentials  # with a refreshed oauth2 token, if any
        return kept, verified

    def _merge_credentials(self, raw: Any) -> Credentials:
        """The answers' credentials over --credentials and the environment."""
        if raw is UNANSWERED or raw is None:
            return self.flow.base_credentials
        if not isinstance(raw, dict):
            raise answer_error(self.flow.answerer, "answers-shape", "credentials must be an object",
                               ("credentials",), hint="credentials: {token: ...}")
        try:
            given = credentials_from_mapping(raw, "credentials")
        except UsageError as exc:
            bad = next((k for k in raw if k not in FIELDS), None)
            path: Path = ("credentials", bad) if bad is not None else ("credentials",)
            raise answer_error(self.flow.answerer, "answers-credentials", str(exc), path) from None
        changes = {f.name: getattr(given, f.name) for f in fields(given)
                   if getattr(given, f.name) is not None}
        return replace(self.flow.base_credentials, **changes)

    def _check_complete(self, credentials: Credentials, request: CredentialsRequest) -> None:
        missing = [f.name for f in request.fields if f.required
                   and not getattr(credentials, f.name)
                   and not (self.flow.replaying and f.name != "subdomain")]
        if request.auth_type == "oauth2" and not self.flow.replaying and \
                not (credentials.access_token or credentials.refresh_token):
            missing.append("access_token or refresh_token")
        if not missing:
            return
        first = missing[0].split()[0]
        raise answer_error(
            self.flow.answerer, "credentials-missing",
            f"the auth {request.auth_name!r} ({request.auth_type}) needs "
            f"{', '.join(missing)}", ("credentials",),
            hint=f"give credentials: {{{first}: ...}} in the answers file, put it under "
            f"{request.auth_name!r} in --credentials FILE, or set {ENV_VARS[first]}")

    def _refused(self, request: CredentialsRequest, detail: str) -> AnswerError:
        where: Path = ("auth", request.auth_name, "verify_url") \
            if "verify_url" in self.flow.auth else ("auth", request.auth_name)
        kind = request.auth_type
        what = {"token": "the token", "basic": "the username and password",
                "session": "the username and password", "oauth2": "the tokens"}.get(kind,
                                                                                  "them")
        hint = f"check {what} (answers `credentials`, --credentials FILE or MANIFEST_RUNTIME_*)"
        if "replay-unmatched" in detail or "no recorded response" in detail:
            hint = "the cassette has no answer for the credential check: record one with " \
                "--record (see docs/setup.md)"
        return AnswerError(self.flow.located(
            "credentials-refused",
            f"the credentials for {request.auth_name!r} were refused: {detail}", where, hint))

    def _connection(self, output: Any, path: Path) -> dict[str, Any] | None:
        if not isinstance(output, dict):
            self.flow.warn(f"describe_connection output {excerpt(output, 120)}, not {{account_id, "
                      "description}}: no connection description is stored")
            return None
        for key in ("account_id", "description"):
            if key not in output or output[key] is None:
                self.flow.warn(f"describe_connection output has no {key} "
                          f"({excerpt(output, 120)})")
            elif not isinstance(output[key], str):
                self.flow.warn(f"describe_connection's {key} is {excerpt(output[key], 60)}, not a "
                          "string")
        return output
