"""Which ActiveCampaign account a command uses: a real one when a URL and an API token are
given, else the sandbox in the state file.

    --ac-url URL --ac-token TOKEN                       (command line, first)
    MANIFEST_RUNTIME_AC_URL, MANIFEST_RUNTIME_AC_TOKEN  (environment, then)
    activecampaign: {url: URL, token: TOKEN}            (the --credentials file, last)

Both or neither: a URL without a token (or the reverse) is a usage error. The token is a
secret: it never reaches the state file, and the run's redactor masks it everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..errors import UsageError

ENV_URL = "MANIFEST_RUNTIME_AC_URL"
ENV_TOKEN = "MANIFEST_RUNTIME_AC_TOKEN"
FILE_KEY = "activecampaign"
REPLAY_TOKEN = "replay-placeholder"


@dataclass(frozen=True)
class AccountSettings:
    url: str  # e.g. https://NAME.api-us1.com (the account's Settings > Developer page)
    token: str = field(repr=False)


def account_settings(url: str | None, token: str | None, credentials_file: str | None,
                     env: Mapping[str, str] | None = None, *, replaying: bool = False
                     ) -> AccountSettings | None:
    """The real account to use, or None for the sandbox."""
    environ = os.environ if env is None else env
    entry = _file_entry(credentials_file)
    url = url or environ.get(ENV_URL) or _text(entry, "url", credentials_file)
    token = token or environ.get(ENV_TOKEN) or _text(entry, "token", credentials_file)
    if not url and not token:
        return None
    if not token and replaying:  # a cassette is recorded without the token
        token = REPLAY_TOKEN
    if not url:
        raise UsageError(f"an ActiveCampaign API token was given but no URL: pass --ac-url "
                         f"URL (or {ENV_URL}, or `url` under `{FILE_KEY}` in the credentials "
                         "file), e.g. https://NAME.api-us1.com")
    parts = urlsplit(url)  # the given URL is not echoed: it may be a token put there by mistake
    if not token:
        raise UsageError(f"--ac-url needs the account's API token: {ENV_TOKEN}, "
                         f"`token` under `{FILE_KEY}` in the --credentials file, or "
                         "--ac-token TOKEN (Settings > Developer in the account)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("--ac-url is not an http(s) URL; give the account's API URL, e.g. "
                         "https://NAME.api-us1.com")
    if parts.query or parts.fragment or parts.username:
        raise UsageError(f"--ac-url: give the account's API URL alone (no query, fragment or "
                         f"user), e.g. {parts.scheme}://{parts.hostname}")
    return AccountSettings(url.rstrip("/").removesuffix("/api/3"), token)


def _file_entry(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    from ..http.credentials import read_credentials_file

    entry = read_credentials_file(path).get(FILE_KEY)
    if entry is None:
        return {}
    if not isinstance(entry, dict):
        raise UsageError(f"credentials file {path}: {FILE_KEY!r} must be an object "
                         "{url, token}")
    unknown = sorted(set(entry) - {"url", "token"})
    if unknown:
        raise UsageError(f"credentials file {path}: {FILE_KEY}: unknown field(s) "
                         f"{', '.join(unknown)} (expected: url, token)")
    return entry


def _text(entry: dict[str, Any], name: str, path: str | None) -> str | None:
    value = entry.get(name)
    if value is None or isinstance(value, str):
        return value or None
    raise UsageError(f"credentials file {path}: {FILE_KEY}.{name} must be a string")
