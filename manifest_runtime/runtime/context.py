"""The evaluation context: the roots expansions read and the services commands use.

An `EvalContext` is immutable in use: `with_piped` makes the child context a `!pipe` runs its
steps in (innermost pipe wins). It is two references, the run-wide `Env` (services, settings)
and the roots mapping, so a pipe run costs one small dict copy, not a dataclass rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..expressions.nodes import SAVE_SCOPES, Missing
from ..model import HttpOutput
from .store import MemoryStore, Store

if TYPE_CHECKING:
    from ..activecampaign.types import ActiveCampaign
    from ..http.types import HttpService
    from ..model import Node
    from ..paths import Path

HttpOutputOverride = HttpOutput | None


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One command run: where, what it got, what it expanded, what it output (or the error)."""

    path: Path
    command: str
    input: Any
    args: dict[str, Any]
    output: Any = None
    error: str | None = None


def _no_redact(text: str) -> str:
    return text


def _no_redact_value(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Env:
    """Run-wide services and settings shared by a context and all its children."""

    store: Store = field(default_factory=MemoryStore)
    http: HttpService | None = None
    ac: ActiveCampaign | None = None
    contact: dict[str, Any] | None = None  # the contact being processed (overrides ac's)
    base_url: str | Node | None = None  # api.base_url: expanded text or its compiled node
    http_output: HttpOutputOverride = None  # overrides every !http step's output shape
    log: Callable[[str], None] | None = None  # !print_c messages
    trace: Callable[[TraceEvent], None] | None = None
    redact: Callable[[str], str] = _no_redact  # scrubs secrets from messages and traces
    redact_value: Callable[[Any], Any] = _no_redact_value  # the same inside JSON values
    resource_role: Literal["source", "target"] | None = None  # !resource ActiveCampaignContact
    data: dict[str, dict[str, Any]] = field(default_factory=dict)  # live view of the store
    trace_args: list[dict[str, Any]] = field(default_factory=list)  # one per traced command


class EvalContext:
    """Roots for expansions plus the run's services. Create with `EvalContext.create`."""

    __slots__ = ("_roots", "env")

    def __init__(self, env: Env, roots: dict[str, Any]) -> None:
        self.env = env
        self._roots = roots

    @classmethod
    def create(
        cls,
        *,
        custom_data: dict[str, Any] | None = None,
        piped_content: list[Any] | None = None,
        webhook: dict[str, Any] | None = None,
        polling_state: Any = Missing,
        subdomain: str | None = None,
        resource: Any = Missing,
        env: Env | None = None,
        reload_data: bool = True,
        **services: Any,
    ) -> EvalContext:
        """A top-level context. `services` are `Env` fields (http=, ac=, store=, ...).
        `reload_data=False` keeps `env.data` as it is: a run loads it once, and `!save`
        keeps it current."""
        env = env if env is not None else Env(**services)
        for scope in SAVE_SCOPES if reload_data or not env.data else ():
            env.data[scope] = env.store.get_all(scope)
        roots: dict[str, Any] = {"data": env.data}
        for name, value in (("custom_data", custom_data), ("piped_content", piped_content),
                            ("webhook", webhook), ("subdomain", subdomain)):
            if value is not None:
                roots[name] = value
        for name, value in (("polling_state", polling_state), ("resource", resource)):
            if value is not Missing:
                roots[name] = value
        return cls(env, roots)

    # ------------------------------------------------------------------ roots

    def roots(self) -> Mapping[str, Any]:
        """What `${root...}` reads; an absent root evaluates to Missing."""
        return self._roots

    def with_piped(self, piped: list[Any]) -> EvalContext:
        """The context a pipe's steps run in: `piped_content` is this pipe's list."""
        roots = self._roots.copy()
        roots["piped_content"] = piped
        return EvalContext(self.env, roots)

    def with_roots(self, **roots: Any) -> EvalContext:
        """A child context with some roots replaced (Missing removes one)."""
        new = self._roots.copy()
        for name, value in roots.items():
            if value is Missing:
                new.pop(name, None)
            else:
                new[name] = value
        return EvalContext(self.env, new)

    @property
    def custom_data(self) -> dict[str, Any] | None:
        value = self._roots.get("custom_data")
        return value if isinstance(value, dict) else None

    @property
    def piped_content(self) -> list[Any] | None:
        value = self._roots.get("piped_content")
        return value if isinstance(value, list) else None

    @property
    def polling_state(self) -> Any:
        return self._roots.get("polling_state", Missing)

    # ------------------------------------------------------------------ services

    @property
    def http(self) -> HttpService | None:
        return self.env.http

    @property
    def ac(self) -> ActiveCampaign | None:
        return self.env.ac

    @property
    def store(self) -> Store:
        return self.env.store

    def save(self, scope: str, values: dict[str, Any]) -> None:
        """Merge into the scope's store and refresh what `${data.<scope>}` reads."""
        self.env.store.merge(scope, values)
        self.env.data[scope] = self.env.store.get_all(scope)

    def log(self, message: str) -> None:
        if self.env.log is not None:
            self.env.log(self.env.redact(message))

    @property
    def tracing(self) -> bool:
        return self.env.trace is not None

    def note(self, name: str, value: Any) -> None:
        """Record an expanded argument of the running command (shown by --trace)."""
        if self.env.trace is not None and self.env.trace_args:
            self.env.trace_args[-1][name] = value
