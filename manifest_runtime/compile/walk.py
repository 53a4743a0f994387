"""Load + walk a manifest: schema, every command and expansion, semantic checks.

`compile_manifest` never raises for a bad manifest: it returns a CompiledManifest whose
`diagnostics` hold every problem, sorted by position. `validate` is exactly this.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, did_you_mean, sort_key
from ..model import Arr, CompiledManifest, Const, Node, Obj
from ..paths import Path
from ..source import LoadedManifest, SourceMap, load_file
from .checks import ROOT_KEYS, declares, dig, run_checks
from .compiler import COMMENT, Compiler
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


def load_and_compile(filename: str, *, notes: bool = True, keep: bool = True
                     ) -> CompiledManifest:
    """Read and compile a manifest file. Raises ManifestLoadError only if it cannot be read.
    `keep=False`: only the diagnostics are wanted (`validate`), see compile_manifest."""
    with paused_gc():
        return compile_manifest(load_file(filename), notes=notes, keep=keep)


def compile_manifest(
    loaded: LoadedManifest, commands: Mapping[str, CommandSpec] | None = None, *,
    notes: bool = True, keep: bool = True,
) -> CompiledManifest:
    """Compile a loaded manifest with `commands` (default: the registry of every command).

    `notes`: also report the notes (severity info, e.g. `http-output`). `keep=False`: only the
    diagnostics are wanted (`validate`): each workflow's compiled nodes are dropped once its
    diagnostics are known, so memory holds one workflow's nodes at a time, and the result's
    `root` is an empty Const that nothing can run."""
    from ..jqverdicts import optimistic, settle

    if commands is None:
        from ..commands import COMMANDS

        commands = COMMANDS
    # jq programs libjq has not judged yet are taken to compile, then judged all at once
    # (jqverdicts.py); when one does not, the walk is done again with every verdict known
    try:
        with optimistic() as unknown:
            compiled = _compile(loaded, commands, notes, keep)
    except Exception:  # a pass upset by a program wrongly taken to compile: the walk below
        pass  # judges each program where it stands (a real bug raises there again)
    else:
        if settle(unknown):
            return compiled
    return _compile(loaded, commands, notes, keep)


def _compile(loaded: LoadedManifest, commands: Mapping[str, CommandSpec], notes: bool,
             keep: bool) -> CompiledManifest:
    with paused_gc():
        c = Compiler(commands, loaded.source, list(loaded.diagnostics), notes=notes, keep=keep)
        data = loaded.data
        if not isinstance(data, dict):
            c.report("wrong-type", "a manifest is a JSON/YAML object", (),
                     hint='start from {"$version": "2", "auth": {...}, "workflows": [...]}')
            return _finish(loaded, Const(data, ()), c)
        check_schema(data, c)
        root = _ManifestWalker(data, c).compile()
        c.end_batch()
        run_checks(data, c)
        return _finish(loaded, root if keep else Const(None, ()), c)


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a manifest is read and compiled: it makes
    millions of small objects and no cycles to collect, and the collector's passes over a
    growing heap cost a third of the time on large files. Nesting is fine."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    c.end_batch()
    return node, tuple(c.diagnostics)


def _finish(loaded: LoadedManifest, root: Node, c: Compiler) -> CompiledManifest:
    diagnostics = tuple(sorted(dict.fromkeys(c.diagnostics), key=sort_key))
    return CompiledManifest(loaded.source.file, loaded.data, root, loaded.source, diagnostics)


def field_infos(workflow: Any) -> dict[str, FieldInfo] | None:
    """The select-step form fields of a raw workflow, by id; {} when it has no select step.

    None (unknown: references to fields are not judged) when the select step's form fields
    cannot be read: `form_fields` missing or misspelt, not a list, or an entry without a
    string id. The schema reports that one cause; every `${custom_data.x}` of the workflow
    being "not a form field" would only repeat it."""
    setup = workflow.get("setup") if isinstance(workflow, dict) else None
    if not isinstance(setup, dict):
        return None  # no setup (required) or not an object: what it declares is unknown
    select = setup.get("select")
    if select is None:
        return {}
    fields = select.get("form_fields") if isinstance(select, dict) else None
    if not isinstance(fields, list):
        return None
    out: dict[str, FieldInfo] = {}
    for i, f in enumerate(fields):
        if not isinstance(f, dict) or not isinstance(f.get("id"), str):
            return None
        if f["id"] not in out:
            out[f["id"]] = FieldInfo(f["id"], i, f.get("required", True) is not False,
                                     str(f.get("type", "")))
    return out


def _declares_subdomain(auth: Any) -> bool:
    return isinstance(dig(auth, "defined_fields", "subdomain"), dict)


def _has_selection(workflow: Any) -> bool:
    """Does the workflow's select step declare describe_selection (what ${resource} is)?
    A misspelt or malformed one counts as declared: the schema reports it, once."""
    select = dig(workflow, "setup", "select")
    return isinstance(select, dict) and declares(select, "describe_selection")


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
            if walk is not None:
                items[key] = walk(raw, (key,))
            elif key not in ROOT_KEYS and did_you_mean(key, sections):
                # a misspelt section (`data_intakes`: the schema's unknown-key): its values
                # would be judged in the wrong scope, so they are not judged at all
                items[key] = Const(raw, (key,))
            else:
                items[key] = self.c.value(raw, (key,), Scope())
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
        parsers = scope.but(bare_paths=True)
        items = {k: self.c.value(v, (*path, k), scope) for k, v in raw.items()
                 if k not in (COMMENT, "pagination")}
        items["pagination"] = _obj({
            k: self.c.value(v, (*path, "pagination", k), parsers if k == "parser" else scope)
            for k, v in paging.items() if k != COMMENT}, (*path, "pagination"))
        return _obj(items, path)

    def intakes(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, list):
            return self.c.value(raw, path, Scope())
        return _arr([self.batch(self.intake(item, (*path, i))) for i, item in enumerate(raw)],
                    path)

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
                found = field_infos(w)
                if found is None:
                    fields = None  # one user's fields are unknown: so are the intake's
                    break
                fields.update(found)
        subdomain, lacking = self.subdomain_for(users)
        kind = raw.get("type")
        # a type that is neither (the schema's invalid-value): which roots exist is unknown
        polling = True if kind == "polling" else False if kind == "webhook" else None
        # ${resource}: the selection of the workflows using this intake (unknown: unused)
        selection = any(_has_selection(w) for w in users) if users else True
        base = Scope(fields=fields, polling=polling, subdomain=subdomain,
                     subdomain_lacking=lacking, where=f"data_intake {name!r}")
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            scope = base.but(webhook_lifecycle=not polling and key in WEBHOOK_LIFECYCLE,
                            selection=selection and key not in ROUTING_KEYS,
                            where=f"{key} of data_intake {name!r}")
            items[key] = self.c.value(value, (*path, key), scope)
        return _obj(items, path)

    def workflow_list(self, raw: Any, path: Path) -> Node:
        if not isinstance(raw, list):
            return self.c.value(raw, path, Scope())
        return _arr([self.batch(self.workflow(w, (*path, i))) for i, w in enumerate(raw)], path)

    def batch(self, node: Node) -> Node:
        """One workflow or data_intake compiled: run the passes on its commands; without
        `keep`, drop its nodes (their diagnostics are all made)."""
        self.c.end_batch()
        return node if self.c.keep else Const(None, node.path)

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
                items[key] = self.c.value(value, (*path, key), scope.but(
                    selection=selection, where=f"the data_pipeline of workflow {name!r}"))
            else:
                items[key] = self.c.value(value, (*path, key), scope)
        return _obj(items, path)

    def setup(self, raw: dict[str, Any], path: Path, scope: Scope, selection: bool) -> Node:
        items: dict[str, Node] = {}
        for key, value in raw.items():
            if key == COMMENT:
                continue
            step = scope.but(where=f"the {key} step of {scope.where}")
            if key == "connect":
                step = step.but(roots=CONNECT_ROOTS, roots_hint=CONNECT_ROOTS_HINT)
            elif key == "map":
                step = step.but(selection=selection)
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
                field_scope = scope.but(field_index=i)
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
