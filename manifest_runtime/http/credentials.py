"""User credentials for one auth: from a credentials file (JSON/YAML) and the environment.

File shape (DESIGN §5): `{"<auth-name>": {"token", "username", "password", "subdomain",
"access_token", "refresh_token", "expires_at"}}`. Each field may be overridden by an environment
variable `MANIFEST_RUNTIME_<FIELD>` (e.g. MANIFEST_RUNTIME_TOKEN). Credentials never come from
the manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import UsageError

ENV_PREFIX = "MANIFEST_RUNTIME_"
FIELDS = ("token", "username", "password", "subdomain", "access_token", "refresh_token",
          "expires_at")
ENV_VARS = {name: ENV_PREFIX + name.upper() for name in FIELDS}


@dataclass(frozen=True)
class Credentials:
    token: str | None = None
    username: str | None = None
    password: str | None = None
    subdomain: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: datetime | None = None  # timezone-aware (UTC when the text had no offset)

    def secret_values(self) -> tuple[str | None, ...]:
        """Every value that must never be printed. Neither the subdomain nor the username is a
        secret on its own: the username is masked in its Basic header form (Redactor.add_basic)
        and under secret-looking names, not as a substring of every text (see redact.py)."""
        return (self.token, self.password, self.access_token, self.refresh_token)

    def as_json(self) -> dict[str, str]:
        """The file form (only the fields that are set), e.g. to save rotated tokens."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value.isoformat() if isinstance(value, datetime) else str(value)
        return out

    def updated(self, **changes: Any) -> Credentials:
        return replace(self, **changes)


def parse_expires_at(value: Any, where: str = "expires_at") -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"{where}: {value!r} is not an ISO 8601 date-time "
                             "(e.g. 2030-01-31T12:00:00Z)") from None
    else:
        raise UsageError(f"{where}: expected an ISO 8601 date-time, got {type(value).__name__}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def credentials_from_mapping(raw: Mapping[str, Any], where: str = "credentials") -> Credentials:
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise UsageError(f"{where}: unknown field(s) {', '.join(unknown)} "
                         f"(expected: {', '.join(FIELDS)})")
    values: dict[str, Any] = {}
    for name in FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        if name == "expires_at":
            values[name] = parse_expires_at(value, f"{where}.expires_at")
        elif isinstance(value, str):
            values[name] = value
        else:
            raise UsageError(_not_text(f"{where}.{name}", name, value))
    return Credentials(**values)


def _not_text(where: str, name: str, value: Any) -> str:
    """A non-string credential is refused rather than converted: YAML reads an unquoted `0123`
    as the octal number 83, `1_000` as 1000 and `yes` as true, so str() would send a value that
    is not the one written in the file. The value itself is not shown: it may be a secret."""
    kind = {bool: "a boolean", int: "a number", float: "a number", dict: "a mapping",
            list: "a list"}.get(type(value), type(value).__name__)
    return (f"{where}: expected a string, got {kind}; a YAML or JSON value that "
            f'looks like a number or boolean must be quoted, e.g. {name}: "0123" '
            "(unquoted YAML reads 0123 as the octal number 83)")


def read_credentials_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The whole credentials file as a dict keyed by auth name (JSON or YAML, safe loader)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read credentials file {file}: {exc.strerror}") from None
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError (not a ValueError)
        raise UsageError(f"credentials file {file} is not valid JSON: {exc}") from None
    except Exception as exc:  # yaml.YAMLError
        raise UsageError(f"credentials file {file} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"credentials file {file} must hold an object keyed by auth name")
    return data


def load_credentials(auth_name: str | None, path: str | os.PathLike[str] | None = None,
                     env: Mapping[str, str] | None = None) -> Credentials:
    """Credentials for `auth_name`: the file's entry, then MANIFEST_RUNTIME_* overrides."""
    creds = Credentials()
    if path is not None:
        data = read_credentials_file(path)
        entry = data.get(auth_name) if auth_name is not None else None
        if entry is not None:
            if not isinstance(entry, dict):
                raise UsageError(f"credentials file {path}: {auth_name!r} must be an object")
            creds = credentials_from_mapping(entry, f"{path}: {auth_name}")
    return apply_env(creds, os.environ if env is None else env)


def apply_env(creds: Credentials, env: Mapping[str, str]) -> Credentials:
    changes: dict[str, Any] = {}
    for name, var in ENV_VARS.items():
        value = env.get(var)
        if value:
            changes[name] = parse_expires_at(value, var) if name == "expires_at" else value
    return replace(creds, **changes) if changes else creds


ROTATING = ("access_token", "refresh_token", "expires_at")


def save_rotated(path: str | os.PathLike[str], auth_name: str, creds: Credentials) -> None:
    """Write refreshed oauth2 tokens (access_token, refresh_token, expires_at) back into the
    credentials file's entry for `auth_name`, keeping every other entry and field. The file is
    replaced atomically and stays readable by its owner only. YAML comments are not kept."""
    file = Path(path)
    data = read_credentials_file(file)
    entry = data.get(auth_name)
    entry = dict(entry) if isinstance(entry, dict) else {}
    fresh = creds.as_json()
    for name in ROTATING:
        if name in fresh:
            entry[name] = fresh[name]
    data[auth_name] = entry
    if file.suffix.lower() == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    tmp = file.with_name(f".{file.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, file)
