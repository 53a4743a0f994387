"""Load + compile a manifest: schema, every command and expansion, semantic checks.

`compile_manifest` never raises for a bad manifest: it returns a CompiledManifest whose
`diagnostics` hold every problem, sorted by position. `validate` is exactly this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .checks import dig, run_checks
from .commands import COMMANDS, CommandSpec
from .compiler import COMMENT, Compiler, FieldInfo, Scope
from .errors import Diagnostic, sort_key
from .model import CompiledManifest, Const, Node, Obj
from .paths import Path
from .schema import check_schema
from .source import LoadedManifest, load_file

WEBHOOK_LIFECYCLE = ("create", "update", "delete")


def load_and_compile(filename: str) -> CompiledManifest:
    """Read and compile a manifest file. Raises ManifestLoadError only if it cannot be read."""
    return compile_manifest(load_file(filename))


def compile_manifest(
    loaded: LoadedManifest, commands: Mapping[str, CommandSpec] = COMMANDS
) -> CompiledManifest:
    c = Compiler(commands, loaded.source, list(loaded.diagnostics))
    data = loaded.data
    if not isinstance(data, dict):
        c.report("wrong-type", "a manifest is a JSON/YAML object", (),
                 hint='start from {"$version": "2", "auth": {...}, "workflows": [...]}')
        return _finish(loaded, Const(data, ()), c)
    check_schema(data, c)
    root = _ManifestWalker(data, c).compile()
    run_checks(data, c)
    _note_http_outputs(c)
    return _finish(loaded, root, c)


def _finish(loaded: LoadedManifest, root: Node, c: Compiler) -> CompiledManifest:
    diagnostics = tuple(sorted(dict.fromkeys(c.diagnostics), key=sort_key))
    return CompiledManifest(loaded.source.file, loaded.data, root, loaded.source, diagnostics)


def _note_http_outputs(c: Compiler) -> None:
    for path, node in c.http_nodes.items():
        shape = "{status, headers, body}" if node.output == "wrapped" else "the parsed body"
        c.report("http-output", f"!http output: {node.output} = {shape}; {node.output_reason}",
                 path, severity="info")


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

    def auth(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, dict):
            return self.c.value(raw, path, Scope())
        items = {
            name: self.c.value(a, (*path, name), Scope(subdomain=_declares_subdomain(a)))
            for name, a in raw.items() if name != COMMENT
        }
        return Obj(items, path)

    def api(self, raw: Any, path: Path) -> Node:
        declared = any(_declares_subdomain(a) for a in self.auths.values())
        scope = Scope(subdomain=declared)
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
        subdomains = [self.subdomain_of(w.get("auth")) for w in users]
        subdomain = any(s for s in subdomains) if users else \
            any(_declares_subdomain(a) for a in self.auths.values())
        polling = raw.get("type") == "polling"
        base = Scope(fields=fields, polling=polling, subdomain=subdomain,
                     where=f"data_intake {name!r}")
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            scope = replace(base, webhook_lifecycle=not polling and key in WEBHOOK_LIFECYCLE)
            items[key] = self.c.value(value, (*path, key), scope)
        return _obj(items, path)

    def workflow_list(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, list):
            return self.c.value(raw, path, Scope())
        return _arr([self.workflow(w, (*path, i)) for i, w in enumerate(raw)], path)

    def workflow(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, dict):
            return self.c.value(raw, path, Scope())
        scope = Scope(fields=field_infos(raw), subdomain=self.subdomain_of(raw.get("auth")),
                      where=f"workflow {raw.get('name')!r}")
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            if key == "setup" and isinstance(value, dict):
                items[key] = self.setup(value, (*path, key), scope)
            else:
                items[key] = self.c.value(value, (*path, key), scope)
        return _obj(items, path)

    def setup(self, raw: dict[str, Any], path: Path, scope: Scope) -> Node:
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            fields = value.get("form_fields") if isinstance(value, dict) else None
            if key == "select" and isinstance(fields, list):
                items[key] = self.select(value, (*path, key), scope)
            else:
                items[key] = self.c.value(value, (*path, key), scope)
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
    from .model import Arr

    if all(isinstance(n, Const) for n in items):
        return Const([n.value for n in items], path)  # type: ignore[union-attr]
    return Arr(tuple(items), path)


__all__ = ["Diagnostic", "compile_manifest", "field_infos", "load_and_compile"]
