"""Test cases of a manifest, kept as data: run each through the evaluation engine `eval` uses
(runtime.run_at) and compare its output with what the case expects.

A case file (YAML or JSON) is a list of cases, or `{cases: [...]}`; each case is

    name: what it checks                 (required, unique in its file)
    pointer: /workflows/NAME/...         (by index or by name, as for eval; required)
    input: ...                           (the command's input; default null)
    custom_data: {field: value, ...}     (form answers; a bare value gets its option's display)
    roots: {data: {workflow: {...}}, polling_state: ..., webhook: {url: ...},
            resource: {id, display}, contact: {...}, subdomain: ...}
    cassette: FILE                       (answers !http, relative to the case file)
    expect: ...                          (the output) | expect_error: CODE

Each case runs alone: an in-memory state (so `!resource` writes to a fresh sandbox account),
`!save` data seeded from roots.data, and no network: an `!http` without a cassette fails.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .errors import Diagnostic, EvaluationError, UsageError

if TYPE_CHECKING:
    from .model import CompiledManifest
    from .runtime.context import TraceEvent

CASE_KEYS = frozenset({"name", "pointer", "input", "custom_data", "roots", "cassette",
                       "expect", "expect_error"})
ROOT_KEYS = frozenset({"data", "polling_state", "webhook", "resource", "contact", "subdomain"})
DEFAULT_WEBHOOK = {"url": "http://127.0.0.1:8787/webhook"}
Outcome = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class Case:
    file: str
    index: int
    name: str
    pointer: str
    input: Any = None
    custom_data: dict[str, Any] | None = None
    roots: dict[str, Any] = field(default_factory=dict)
    cassette: str | None = None  # resolved against the case file's folder
    expect: Any = None
    expect_error: str | None = None
    has_expect: bool = False
    line: int | None = None

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass(frozen=True)
class CaseResult:
    case: Case
    outcome: Outcome
    actual: Any = None  # the output (when the command ran)
    error: Diagnostic | None = None  # the error (when it failed)
    reason: str = ""  # one line: why it failed
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.case.file, "name": self.case.name,
                               "pointer": self.case.pointer, "outcome": self.outcome,
                               "seconds": round(self.seconds, 4)}
        if self.outcome != "passed":
            out["reason"] = self.reason
            out["expected"] = ({"error": self.case.expect_error} if self.case.expect_error
                               else self.case.expect)
            out["actual"] = ({"error": self.error.code} if self.error else self.actual)
        if self.error is not None:
            out["error"] = self.error.as_json()
        return out


def load_cases(path: str) -> list[Case]:
    """The cases of one file; a malformed file is a UsageError naming the case and key."""
    from .errors import ManifestLoadError
    from .source import load_file

    if not os.path.isfile(path):
        raise UsageError(f"no case file {path}")
    try:
        loaded = load_file(path)
    except ManifestLoadError as exc:  # located: file:line:col
        d = exc.diagnostic
        raise UsageError(f"{d.file}:{d.line}:{d.column}: cannot read the case file: "
                         f"{d.message}") from None
    data, source = loaded.data, loaded.source
    items = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UsageError(f"{path}: expected a list of cases (or {{cases: [...]}})")
    base = os.path.dirname(path)
    seen: set[str] = set()
    cases: list[Case] = []
    for i, raw in enumerate(items):
        where = f"{path}: case {i + 1}"
        if not isinstance(raw, dict):
            raise UsageError(f"{where}: expected a mapping with name, pointer, expect")
        pos = source.locate(("cases", i) if isinstance(data, dict) else (i,))
        if pos is not None:
            where = f"{path}:{pos[0]}: case {i + 1}"
        unknown = sorted(set(raw) - CASE_KEYS)
        if unknown:
            from .errors import choices_hint

            raise UsageError(f"{where}: unknown key {unknown[0]!r}; "
                             f"{choices_hint(unknown[0], sorted(CASE_KEYS))}")
        name, pointer = raw.get("name"), raw.get("pointer")
        if not isinstance(name, str) or not name:
            raise UsageError(f"{where}: 'name' is required (a short sentence)")
        if name in seen:
            raise UsageError(f"{where}: a second case named {name!r}")
        seen.add(name)
        if not isinstance(pointer, str):
            raise UsageError(f"{where} ({name}): 'pointer' is required, e.g. "
                             "/workflows/NAME/data_pipeline/source")
        if ("expect" in raw) == ("expect_error" in raw):
            raise UsageError(f"{where} ({name}): give exactly one of 'expect' or "
                             "'expect_error' (run with --update to fill it in)")
        roots = raw.get("roots") or {}
        if not isinstance(roots, dict) or set(roots) - ROOT_KEYS:
            bad = sorted(set(roots) - ROOT_KEYS) if isinstance(roots, dict) else ["(not a map)"]
            raise UsageError(f"{where} ({name}): roots: unknown {bad[0]!r}; roots are "
                             f"{', '.join(sorted(ROOT_KEYS))}")
        cassette = raw.get("cassette")
        cases.append(Case(
            file=path, index=i, name=name, pointer=pointer, input=raw.get("input"),
            custom_data=raw.get("custom_data"), roots=roots,
            cassette=None if cassette is None else os.path.join(base, str(cassette)),
            expect=raw.get("expect"),
            expect_error=None if raw.get("expect_error") is None else str(raw["expect_error"]),
            has_expect="expect" in raw, line=pos[0] if pos else None))
    return cases


def run_case(compiled: CompiledManifest, case: Case,
             trace: Callable[[Any], Callable[[TraceEvent], None]] | None = None) -> CaseResult:
    """Run one case and judge it. `trace(redactor)`: a tracer for its steps (--trace)."""
    started = time.perf_counter()
    try:
        actual = evaluate_case(compiled, case, trace)
    except EvaluationError as exc:
        from .runtime.errors import with_location

        d = exc.diagnostic
        if d.file is None and d.path and d.code != "no-such-node":
            d = with_location(d, compiled.source)
        return _judge_error(case, d, time.perf_counter() - started)
    except UsageError as exc:
        d = Diagnostic(code="usage", message=str(exc))
        return _judge_error(case, d, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if case.expect_error is not None:
        return CaseResult(case, "failed", actual=actual, seconds=seconds,
                          reason=f"expected error {case.expect_error}, but it succeeded")
    if _same(actual, case.expect):
        return CaseResult(case, "passed", actual=actual, seconds=seconds)
    return CaseResult(case, "failed", actual=actual, seconds=seconds,
                      reason="the output differs from expect")


def _judge_error(case: Case, d: Diagnostic, seconds: float) -> CaseResult:
    if case.expect_error is not None and d.code == case.expect_error:
        return CaseResult(case, "passed", error=d, seconds=seconds)
    if case.expect_error is not None:
        reason = f"expected error {case.expect_error}, got {d.code}: {d.message}"
        return CaseResult(case, "failed", error=d, seconds=seconds, reason=reason)
    return CaseResult(case, "error", error=d, seconds=seconds,
                      reason=f"error[{d.code}]: {d.message}")


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values (1 == 1.0, but True != 1)."""
    return _canon(a) == _canon(b)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def evaluate_case(compiled: CompiledManifest, case: Case,
                  trace: Callable[[Any], Callable[[TraceEvent], None]] | None = None) -> Any:
    """The case's command run by the engine `eval` uses, in a fresh in-memory state."""
    from .expressions.nodes import Missing
    from .http import build_http_service
    from .http.credentials import Credentials
    from .paths import from_pointer
    from .pointer_context import auth_name_for, custom_data_arg, pipeline_role
    from .pointer_names import resolve
    from .runtime.context import Env, EvalContext
    from .runtime.run import run_at
    from .state import MEMORY, StateFile

    try:
        path = resolve(compiled.data, from_pointer(case.pointer))
    except ValueError as exc:
        raise UsageError(f"malformed pointer: {exc}") from None
    if compiled.node_at(path) is None:
        from .runtime.locate import not_found

        raise not_found(compiled, path)
    roots = case.roots
    if case.cassette is not None and not os.path.isfile(case.cassette):
        raise UsageError(f"no cassette {case.cassette}")

    state = StateFile(MEMORY)
    http = build_http_service(
        compiled, auth_name_for(compiled, path), credentials=Credentials(), env={},
        replay=case.cassette, transport=None if case.cassette else _offline(),
        max_attempts=1)
    try:
        data = roots.get("data") or {}
        if not isinstance(data, dict):
            raise UsageError("roots.data: expected {scope: {key: value}}")
        for scope, values in data.items():
            if isinstance(values, dict):
                state.store.merge(str(scope), values)
        contact = roots.get("contact")
        env = Env(store=state.store, http=http, ac=state.sandbox(contact),
                  base_url=compiled.node_at(("api", "base_url")),
                  redact=http.redactor.text, redact_value=http.redactor.value,
                  resource_role=pipeline_role(path),
                  trace=None if trace is None else trace(http.redactor))
        ctx = EvalContext.create(
            custom_data=custom_data_arg(case.custom_data, compiled.data, path,
                                        "a case's custom_data"),
            webhook=roots.get("webhook", DEFAULT_WEBHOOK),
            polling_state=roots.get("polling_state", Missing),
            subdomain=roots.get("subdomain", http.subdomain),
            resource=roots.get("resource", Missing),
            env=env)
        return run_at(compiled, path, case.input, ctx)
    except EvaluationError as exc:
        if case.cassette is None and exc.diagnostic.code.startswith(("auth-", "http-")):
            from dataclasses import replace

            raise EvaluationError(replace(
                exc.diagnostic, hint="test cases run offline, with no credentials: give the "
                "case a cassette (record one with eval --record)")) from None
        raise
    finally:
        http.close()
        state.close()


def _offline() -> Any:
    import httpx

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            f"test cases make no network requests ({request.method} {request.url.host}): "
            "give the case a cassette (record one with eval --record)", request=request)

    return httpx.MockTransport(refuse)


def updated(case_raw: dict[str, Any], result: CaseResult) -> dict[str, Any]:
    """The case as --update writes it: its actual output (or error code) as the expectation."""
    out = {k: v for k, v in case_raw.items() if k not in ("expect", "expect_error")}
    if result.error is not None:
        out["expect_error"] = result.error.code
    else:
        out["expect"] = result.actual
    return out


def summary_counts(results: Sequence[CaseResult]) -> dict[str, int]:
    return {k: sum(1 for r in results if r.outcome == k) for k in ("passed", "failed", "error")}
