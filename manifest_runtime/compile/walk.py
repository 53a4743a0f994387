"""Load + walk a manifest: schema, every command and expansion, semantic checks.

`compile_manifest` never raises for a bad manifest: it returns a CompiledManifest whose
`diagnostics` hold every problem, sorted by position. `validate` is exactly this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, sort_key
from ..model import Arr, CompiledManifest, Const, Node, Obj
from ..paths import Path
from ..source import LoadedManifest, SourceMap, load_file
from .checks import dig, run_checks
from .compiler import COMMENT, Compiler
from .passes.http_output import decide_http_outputs, note_http_outputs
from .roots import (
    API_ROOTS_HINT,
    AUTH_ROOTS_HINT,
    CONNECT_ROOTS,
    CONNECT_ROOTS_HINT,
    ONLY_SUBDOMAIN,
    ROUTING_KEYS,
    WEBHOOK_LIFECYCLE,
    FieldInfo,
    Scope,
)
from .schema import check_schema

if TYPE_CHECKING:
    from ..commands.base import CommandSpec


def load_and_compile(filename: str) -> CompiledManifest:
    """Read and compile a manifest file. Raises ManifestLoadError only if it cannot be read."""
    return compile_manifest(load_file(filename))


def compile_manifest(
    loaded: LoadedManifest, commands: Mapping[str, CommandSpec] | None = None
) -> CompiledManifest:
    """Compile a loaded manifest with `commands` (default: the registry of every command)."""
    if commands is None:
        from ..commands import COMMANDS

        commands = COMMANDS
    c = Compiler(commands, loaded.source, list(loaded.diagnostics))
    data = loaded.data
    if not isinstance(data, dict):
        c.report("wrong-type", "a manifest is a JSON/YAML object", (),
                 hint='start from {"$version": "2", "auth": {...}, "workflows": [...]}')
        return _finish(loaded, Const(data, ()), c)
    check_schema(data, c)
    root = _ManifestWalker(data, c).compile()
    run_checks(data, c)
    note_http_outputs(c)
    return _finish(loaded, root, c)


def compile_value(
    raw: Any, path: Path, scope: Scope, source: SourceMap,
    commands: Mapping[str, CommandSpec] | None = None,
) -> tuple[Node, tuple[Diagnostic, ...]]:
    """Compile one manifest value (not a whole manifest) in `scope`, passes included: the
    compiled node and its diagnostics (notes included)."""
    if commands is None:
        from ..commands import COMMANDS

        commands = COMMANDS
    c = Compiler(commands, source, [])
    node = c.value(raw, path, scope)
    decide_http_outputs(c)
    return node, tuple(c.diagnostics)


def _finish(loaded: LoadedManifest, root: Node, c: Compiler) -> CompiledManifest:
    diagnostics = tuple(sorted(dict.fromkeys(c.diagnostics), key=sort_key))
    return CompiledManifest(loaded.source.file, loaded.data, root, loaded.source, diagnostics)


def field_infos(workflow: Any) -> dict[str, FieldInfo]:
    """The select-step form fields of a raw workflow, by id (malformed entries skipped)."""
    fields = dig(workflow, "setup", "select", "form_fields")
    out: dict[str, FieldInfo] = {}
    if not isinstance(fields, list):
        return out
    for i, f in enumerate(fields):
        if isinstance(f, dict) and isinstance(f.get("id"), str) and f["id"] not in out:
            out[f["id"]] = FieldInfo(f["id"], i, f.get("required", True) is not False,
                                     str(f.get("type", "")))
    return out


def _declares_subdomain(auth: Any) -> bool:
    return isinstance(dig(auth, "defined_fields", "subdomain"), dict)


def _has_selection(workflow: Any) -> bool:
    """Does the workflow's select step declare describe_selection (what ${resource} is)?"""
    return isinstance(dig(workflow, "setup", "select", "describe_selection"), dict)


class _ManifestWalker:
    """Compiles each top-level section with the Scope its values are evaluated in."""

    def __init__(self, data: dict[str, Any], c: Compiler) -> None:
        self.data = data
        self.c = c
        auth = data.get("auth")
        self.auths: dict[str, Any] = auth if isinstance(auth, dict) else {}
        workflows = data.get("workflows")
        self.workflows: list[Any] = workflows if isinstance(workflows, list) else []

    def compile(self) -> Node:
        sections: dict[str, Callable[[Any, Path], Node]] = {
            "auth": self.auth,
            "api": self.api,
            "data_intake": self.intakes,
            "workflows": self.workflow_list,
        }
        items: dict[str, Node] = {}
        for key, raw in self.data.items():
            if key == COMMENT:
                continue
            walk = sections.get(key)
            items[key] = walk(raw, (key,)) if walk else self.c.value(raw, (key,), Scope())
        return Obj(items, ())

    def subdomain_of(self, auth_name: Any) -> bool | None:
        auth = self.auths.get(auth_name) if isinstance(auth_name, str) else None
        return _declares_subdomain(auth) if auth is not None else None

    def subdomain_for(self, workflows: list[Any]) -> tuple[bool, tuple[str, ...]]:
        """Is ${subdomain} declared by every (known) auth these workflows use? With no such
        auth: by any auth. Returns (declared, the auths used without declaring it)."""
        used: list[str] = []
        for w in workflows:
            name = w.get("auth") if isinstance(w, dict) else None
            if isinstance(name, str) and name in self.auths and name not in used:
                used.append(name)
        if not used:
            return any(_declares_subdomain(a) for a in self.auths.values()), ()
        lacking = tuple(n for n in used if not _declares_subdomain(self.auths[n]))
        return not lacking, lacking

    def auth(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, dict):
            return self.c.value(raw, path, Scope(roots=ONLY_SUBDOMAIN, where="auth",
                                                 roots_hint=AUTH_ROOTS_HINT))
        items = {
            name: self.c.value(a, (*path, name), Scope(
                subdomain=_declares_subdomain(a), roots=ONLY_SUBDOMAIN,
                where=f"auth {name!r}", roots_hint=AUTH_ROOTS_HINT))
            for name, a in raw.items() if name != COMMENT
        }
        return Obj(items, path)

    def api(self, raw: Any, path: Path) -> Node:
        declared, lacking = self.subdomain_for(self.workflows)
        scope = Scope(subdomain=declared, subdomain_lacking=lacking, roots=ONLY_SUBDOMAIN,
                      where="the api section", roots_hint=API_ROOTS_HINT)
        paging = raw.get("pagination") if isinstance(raw, dict) else None
        if not isinstance(paging, dict):
            return self.c.value(raw, path, scope)
        parsers = replace(scope, bare_paths=True)
        items = {k: self.c.value(v, (*path, k), scope) for k, v in raw.items()
                 if k not in (COMMENT, "pagination")}
        items["pagination"] = _obj({
            k: self.c.value(v, (*path, "pagination", k), parsers if k == "parser" else scope)
            for k, v in paging.items() if k != COMMENT}, (*path, "pagination"))
        return _obj(items, path)

    def intakes(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, list):
            return self.c.value(raw, path, Scope())
        return _arr([self.intake(item, (*path, i)) for i, item in enumerate(raw)], path)

    def intake(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, dict):
            return self.c.value(raw, path, Scope())
        name = raw.get("name")
        users = [w for w in self.workflows if isinstance(w, dict) and name is not None
                 and name in (w.get("data_intake"), w.get("historical_data_intake"))]
        fields: dict[str, FieldInfo] | None = None
        if users:
            fields = {}
            for w in users:
                fields.update(field_infos(w))
        subdomain, lacking = self.subdomain_for(users)
        polling = raw.get("type") == "polling"
        # ${resource}: the selection of the workflows using this intake (unknown: unused)
        selection = any(_has_selection(w) for w in users) if users else True
        base = Scope(fields=fields, polling=polling, subdomain=subdomain,
                     subdomain_lacking=lacking, where=f"data_intake {name!r}")
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            scope = replace(base, webhook_lifecycle=not polling and key in WEBHOOK_LIFECYCLE,
                            selection=selection and key not in ROUTING_KEYS,
                            where=f"{key} of data_intake {name!r}")
            items[key] = self.c.value(value, (*path, key), scope)
        return _obj(items, path)

    def workflow_list(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, list):
            return self.c.value(raw, path, Scope())
        return _arr([self.workflow(w, (*path, i)) for i, w in enumerate(raw)], path)

    def workflow(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, dict):
            return self.c.value(raw, path, Scope())
        name = raw.get("name")
        scope = Scope(fields=field_infos(raw), subdomain=self.subdomain_of(raw.get("auth")),
                      where=f"workflow {name!r}")
        selection = _has_selection(raw)
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            if key == "setup" and isinstance(value, dict):
                items[key] = self.setup(value, (*path, key), scope, selection)
            elif key == "data_pipeline":
                items[key] = self.c.value(value, (*path, key), replace(
                    scope, selection=selection, where=f"the data_pipeline of workflow {name!r}"))
            else:
                items[key] = self.c.value(value, (*path, key), scope)
        return _obj(items, path)

    def setup(self, raw: dict[str, Any], path: Path, scope: Scope, selection: bool) -> Node:
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            step = replace(scope, where=f"the {key} step of {scope.where}")
            if key == "connect":
                step = replace(step, roots=CONNECT_ROOTS, roots_hint=CONNECT_ROOTS_HINT)
            elif key == "map":
                step = replace(step, selection=selection)
            fields = value.get("form_fields") if isinstance(value, dict) else None
            if key == "select" and isinstance(fields, list):
                items[key] = self.select(value, (*path, key), step)
            else:
                items[key] = self.c.value(value, (*path, key), step)
        return _obj(items, path)

    def select(self, raw: dict[str, Any], path: Path, scope: Scope) -> Node:
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            if key != "form_fields":
                items[key] = self.c.value(value, (*path, key), scope)
                continue
            fields = []
            for i, f in enumerate(value):
                field_scope = replace(scope, field_index=i)
                fields.append(self.c.value(f, (*path, key, i), field_scope))
            items[key] = _arr(fields, (*path, key))
        return _obj(items, path)


def _obj(items: dict[str, Node], path: Path) -> Node:
    if all(isinstance(n, Const) for n in items.values()):
        return Const({k: n.value for k, n in items.items()}, path)  # type: ignore[union-attr]
    return Obj(items, path)


def _arr(items: list[Node], path: Path) -> Node:
    if all(isinstance(n, Const) for n in items):
        return Const([n.value for n in items], path)  # type: ignore[union-attr]
    return Arr(tuple(items), path)


__all__ = ["compile_manifest", "compile_value", "field_infos", "load_and_compile"]
