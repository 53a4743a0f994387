"""Where the state is: a SQLite file path (or `:memory:`), or a PostgreSQL URL
(`postgresql://user:password@host:port/database?...`, also `postgres://`)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str) -> bool:
    return target.lower().startswith(SCHEMES)


def shown(target: str) -> str:
    """The target as it may be printed: a URL's password is `***` (also one given as a
    `password=` query parameter)."""
    if not is_postgres(target):
        return target
    try:
        parts = urlsplit(target)
        parts.port  # noqa: B018  (raises ValueError on a malformed one)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            if ":" in user:
                user = user.split(":", 1)[0] + ":***"
            netloc = f"{user}@{host}"
        query = "&".join("password=***" if p.lower().startswith("password=") else p
                         for p in parts.query.split("&")) if parts.query else ""
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return target.split("://", 1)[0] + "://***"


def password_of(target: str) -> str | None:
    """The URL's password (to mask it in messages that echo it), or None."""
    if not is_postgres(target):
        return None
    try:
        parts = urlsplit(target)
        password = parts.password
    except ValueError:  # malformed: the password is whatever sits between : and @
        head = target.split("://", 1)[-1].split("/", 1)[0]
        user = head.rpartition("@")[0]
        return user.split(":", 1)[1] or None if ":" in user else None
    for p in parts.query.split("&"):
        if p.lower().startswith("password="):
            return p.split("=", 1)[1] or None
    return password or None
