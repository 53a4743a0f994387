"""What the HTTP layer reads from the manifest: the auth entry and `api` (base_url, rate_limit,
pagination), with `${subdomain}` evaluated from the credentials."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import Diagnostic, EvaluationError
from ..expressions.evaluate import evaluate_template
from ..model import Arr, Command, CompiledManifest, Const, Node, Obj, Tmpl
from ..paths import Path

AUTH_TYPES = ("token", "basic", "oauth2", "session")


def static_value(node: Node | None, roots: dict[str, Any]) -> Any:
    """Evaluate a compiled node that may hold `${subdomain}` but no commands."""
    if node is None:
        return None
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Tmpl):
        return evaluate_template(node.template, roots, node.path)
    if isinstance(node, Obj):
        return {k: static_value(v, roots) for k, v in node.items.items()}
    if isinstance(node, Arr):
        return [static_value(v, roots) for v in node.items]
    if isinstance(node, Command):
        raise EvaluationError(Diagnostic("invalid-argument", f"a {node.name} command is not "
                                         "allowed here", node.path))
    raise TypeError(f"not a compiled node: {node!r}")


def resolve(compiled: CompiledManifest, path: Path, subdomain: str | None) -> Any:
    """The value at a manifest path with `${subdomain}` filled in (None when absent)."""
    roots = {"subdomain": subdomain} if subdomain is not None else {}
    try:
        return static_value(compiled.node_at(path), roots)
    except EvaluationError as exc:
        if subdomain is None and "subdomain" in exc.diagnostic.message:
            raise EvaluationError(replace(
                exc.diagnostic, code="auth-missing",
                hint="give subdomain in the credentials file, MANIFEST_RUNTIME_SUBDOMAIN or "
                "--subdomain",
            )) from None
        raise


@dataclass(frozen=True)
class AuthSettings:
    """One `auth` entry with its URLs resolved (client_id/secret are the app's, not the user's)."""

    name: str
    type: str
    header_key: str = "Authorization"
    token_prefix: str = ""
    verify_url: str | None = None
    refresh_url: str | None = None
    client_id: str = ""
    client_secret: str = ""
    include_client_id: bool = False
    request_body: Any = None
    where: Path = field(default=())


def raw_auth(compiled: CompiledManifest, auth_name: str | None) -> dict[str, Any] | None:
    auths = compiled.data.get("auth") if isinstance(compiled.data, dict) else None
    if auth_name is None or not isinstance(auths, dict):
        return None
    entry = auths.get(auth_name)
    return entry if isinstance(entry, dict) else None


def auth_settings(compiled: CompiledManifest, auth_name: str | None,
                  subdomain: str | None) -> AuthSettings | None:
    """The resolved auth entry, None when the workflow names no (known) auth."""
    raw = raw_auth(compiled, auth_name)
    if raw is None or auth_name is None:
        return None
    where: Path = ("auth", auth_name)
    kind = raw.get("type")
    if kind not in AUTH_TYPES:
        raise EvaluationError(Diagnostic("invalid-auth", f"auth {auth_name!r} has type "
                                         f"{kind!r}; expected one of {', '.join(AUTH_TYPES)}",
                                         (*where, "type")))

    def get(*keys: str) -> Any:
        return resolve(compiled, (*where, *keys), subdomain)

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    if kind == "oauth2":
        return AuthSettings(
            auth_name, kind,
            refresh_url=text(get("configuration", "refresh_url")),
            client_id=str(get("configuration", "client_id") or ""),
            client_secret=str(get("configuration", "client_secret") or ""),
            include_client_id=get("configuration", "include_client_id") is True,
            where=where,
        )
    return AuthSettings(
        auth_name, kind,
        header_key=str(get("header_key") or "Authorization"),
        token_prefix=str(get("token_prefix") or ""),
        verify_url=text(get("verify_url")),
        request_body=get("request_body"),
        where=where,
    )


def api_value(compiled: CompiledManifest, key: str) -> Any:
    api = compiled.data.get("api") if isinstance(compiled.data, dict) else None
    return api.get(key) if isinstance(api, dict) else None
