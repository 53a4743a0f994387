"""The HTTP layer: auth, pagination, retries, rate limits, remaps, record/replay, redaction.

The CLI builds one service per run with `build_http_service`; the `!http` command only sees
the `HttpService` interface in types.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from .credentials import ENV_VARS, Credentials, load_credentials
from .redact import Redactor
from .remap import Remap, parse_remap
from .trace import TraceEvent, TraceFn
from .types import HttpRequest, HttpResponse, HttpService

if TYPE_CHECKING:
    import httpx

    from ..model import CompiledManifest
    from .auth import CredentialsChanged
    from .client import AcHandler, HttpClient


def build_http_service(
    compiled: CompiledManifest,
    auth_name: str | None,
    *,
    credentials_file: str | os.PathLike[str] | None = None,
    remaps: Iterable[Remap | str] = (),
    record: str | None = None,
    replay: str | None = None,
    transport: httpx.BaseTransport | None = None,
    trace: TraceFn | None = None,
    max_attempts: int = 3,
    timeout: float = 30.0,
    ac: AcHandler | None = None,
    credentials: Credentials | None = None,
    env: Mapping[str, str] | None = None,
    on_credentials_changed: CredentialsChanged | None = None,
    notice: Callable[[str], None] | None = None,
    retry_unsafe: bool = False,
    redactor: Redactor | None = None,
    record_mode: str = "append",
    match: tuple[str, ...] | None = None,
) -> HttpClient:
    """The HttpClient for one run. `remaps` may be parsed Remaps or "FROM=TO" strings;
    credentials come from `credentials` or the file, then MANIFEST_RUNTIME_* variables.
    Raises UsageError for a bad credentials file or remap."""
    from .cassette import DEFAULT_MATCH
    from .client import HttpClient
    from .credentials import apply_env

    if credentials is None:
        creds = load_credentials(auth_name, credentials_file, env)
    else:
        creds = apply_env(credentials, os.environ if env is None else env)
    parsed = [r if isinstance(r, Remap) else parse_remap(r) for r in remaps]
    return HttpClient(
        compiled, auth_name, credentials=creds, transport=transport, max_attempts=max_attempts,
        timeout=timeout, remaps=parsed, record=record, replay=replay, trace=trace, ac=ac,
        on_credentials_changed=on_credentials_changed, notice=notice,
        retry_unsafe=retry_unsafe, redactor=redactor, record_mode=record_mode,
        match=DEFAULT_MATCH if match is None else match,
    )


__all__ = [
    "ENV_VARS",
    "Credentials",
    "HttpRequest",
    "HttpResponse",
    "HttpService",
    "Redactor",
    "Remap",
    "TraceEvent",
    "build_http_service",
    "load_credentials",
    "parse_remap",
]
