"""What `graph` draws, built from a manifest's data: each workflow with its setup steps (and
their form fields), its data intakes with their lifecycle commands, and its data_pipeline as
source -> transform -> target, every command drawn as a flow of its steps (a `!pipe` as a
chain, a `!switch` as branches)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..paths import Path, to_pointer

SETUP_STEPS = ("connect", "select", "review_events", "review_objects", "map", "schedule")
LIFECYCLE = ("create", "delete", "verification", "account_id", "resource_id", "initial_setup",
             "pre_poll", "request", "post_poll")
_SECRET = ("secret", "token", "password", "key", "signature")  # values never drawn


@dataclass(frozen=True)
class Step:
    """One command in a flow; a `!pipe` holds its steps in order, a `!switch` its cases."""

    command: str  # "!http", "!jq", ...
    label: str  # "!http GET /groups"
    pointer: str
    steps: tuple[Step, ...] = ()  # !pipe
    cases: tuple[Step, ...] = ()  # !switch

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command, "label": self.label,
                               "pointer": self.pointer}
        if self.steps:
            out["steps"] = [s.as_json() for s in self.steps]
        if self.cases:
            out["cases"] = [s.as_json() for s in self.cases]
        return out


@dataclass(frozen=True)
class Part:
    """A named place holding a command or a value: `describe_connection`, `create`, a form
    field's `options`, `source`..."""

    name: str
    detail: str = ""  # e.g. "dropdown" for a form field, a label for a step
    flow: Step | None = None
    parts: tuple[Part, ...] = ()  # a step's parts (a select step's fields)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.detail:
            out["detail"] = self.detail
        if self.flow is not None:
            out["flow"] = self.flow.as_json()
        if self.parts:
            out["parts"] = [p.as_json() for p in self.parts]
        return out


@dataclass(frozen=True)
class Intake:
    name: str
    type: str
    role: str  # "data_intake" or "historical_data_intake"
    lifecycle: tuple[Part, ...]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "role": self.role,
                "lifecycle": [p.as_json() for p in self.lifecycle]}


@dataclass(frozen=True)
class Workflow:
    name: str
    label: str
    type: str
    auth: str
    setup: tuple[Part, ...]
    intakes: tuple[Intake, ...]
    pipeline: tuple[Part, ...]  # source, transform, target

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": self.type, "auth": self.auth,
                "setup": [p.as_json() for p in self.setup],
                "intakes": [i.as_json() for i in self.intakes],
                "data_pipeline": [p.as_json() for p in self.pipeline]}


@dataclass(frozen=True)
class Graph:
    file: str
    workflows: tuple[Workflow, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "workflows": [w.as_json() for w in self.workflows]}


def build(data: Any, file: str, workflow: str | None = None) -> Graph:
    """The graph of a manifest's data (all workflows, or the one named)."""
    data = data if isinstance(data, dict) else {}
    intakes = {str(i.get("name")): (n, i) for n, i in enumerate(data.get("data_intake") or [])
               if isinstance(i, dict)}
    out = []
    for n, w in enumerate(data.get("workflows") or []):
        if not isinstance(w, dict) or (workflow is not None and w.get("name") != workflow):
            continue
        path: Path = ("workflows", n)
        used = []
        for role in ("data_intake", "historical_data_intake"):
            name = w.get(role)
            if isinstance(name, str) and name in intakes:
                index, intake = intakes[name]
                used.append(_intake(intake, ("data_intake", index), role))
        out.append(Workflow(
            name=str(w.get("name")), label=str(w.get("label", "")), type=str(w.get("type", "")),
            auth=str(w.get("auth", "")), setup=_setup(w.get("setup"), (*path, "setup")),
            intakes=tuple(used), pipeline=_pipeline(w, (*path, "data_pipeline"))))
    return Graph(file, tuple(out))


def _setup(setup: Any, path: Path) -> tuple[Part, ...]:
    if not isinstance(setup, dict):
        return ()
    parts = []
    for step in SETUP_STEPS:
        value = setup.get(step)
        if not isinstance(value, dict):
            continue
        inner: list[Part] = []
        for key, item in value.items():
            if key == "form_fields" and isinstance(item, list):
                inner.extend(_field(f, (*path, step, key, i)) for i, f in enumerate(item)
                             if isinstance(f, dict))
            elif key in ("describe_source", "describe_target") and isinstance(item, dict):
                options = item.get("options")
                label = str(item.get("label", ""))
                if _is_command(options):
                    inner.append(Part(key, label,
                                      flow=_flow(options, (*path, step, key, "options"))))
                else:
                    count = len(options) if isinstance(options, list) else 0
                    inner.append(Part(key, f"{label} ({count} fields)"))
            elif key == "describe_selection" and isinstance(item, dict):
                inner.extend(Part(f"selection {k}", flow=_flow(v, (*path, step, key, k)))
                             for k, v in item.items() if _is_command(v))
            elif _is_command(item):
                inner.append(Part(key, flow=_flow(item, (*path, step, key))))
        detail = str(value.get("label", ""))
        if step == "schedule":
            detail += f" (every {value.get('frequency', '?')} s)"
        parts.append(Part(step, detail, parts=tuple(inner)))
    return tuple(parts)


def _field(f: dict[str, Any], path: Path) -> Part:
    options = f.get("options")
    required = "" if f.get("required", True) is not False else ", optional"
    detail = f"{f.get('label', '')} ({f.get('type', '?')}{required})"
    if _is_command(options):
        return Part(f"field {f.get('id')}", detail, flow=_flow(options, (*path, "options")))
    count = f" {len(options)} options" if isinstance(options, list) else ""
    return Part(f"field {f.get('id')}", detail + count)


def _intake(intake: dict[str, Any], path: Path, role: str) -> Intake:
    parts = tuple(Part(key, flow=_flow(intake[key], (*path, key))) for key in LIFECYCLE
                  if _is_command(intake.get(key)))
    return Intake(str(intake.get("name")), str(intake.get("type", "")), role, parts)


def _pipeline(w: dict[str, Any], path: Path) -> tuple[Part, ...]:
    pipeline = w.get("data_pipeline")
    if not isinstance(pipeline, dict):
        return ()
    setup = w.get("setup") if isinstance(w.get("setup"), dict) else {}
    has_map = isinstance(setup, dict) and isinstance(setup.get("map"), dict)
    transform = Part("transform", "the mapping saved by setup" if has_map else
                     "no map step: the source output as it is")
    return (Part("source", flow=_flow(pipeline.get("source"), (*path, "source"))), transform,
            Part("target", flow=_flow(pipeline.get("target"), (*path, "target"))))


def _is_command(value: Any) -> bool:
    keys = [k for k in value if k != "_comment"] if isinstance(value, dict) else []
    return len(keys) == 1 and keys[0].startswith("!")


def _flow(value: Any, path: Path) -> Step | None:
    if not _is_command(value):
        return None
    name = next(k for k in value if k != "_comment")
    arg = value[name]
    here = (*path, name)
    pointer = to_pointer(path)
    if name == "!pipe" and isinstance(arg, list):
        steps = tuple(s for i, a in enumerate(arg) if (s := _flow(a, (*here, i))) is not None)
        return Step(name, f"!pipe ({len(steps)} steps)", pointer, steps=steps)
    if name == "!switch" and isinstance(arg, dict):
        cases = tuple(s for i, a in enumerate(arg.get("cases") or [])
                      if (s := _flow(a, (*here, "cases", i))) is not None)
        return Step(name, f"!switch {_short(arg.get('jq', ''))}", pointer, cases=cases)
    return Step(name, _label(name, arg), pointer)


def _label(name: str, arg: Any) -> str:
    if name == "!http" and isinstance(arg, dict):
        target = arg.get("path") or arg.get("url") or ""
        paged = " (paged)" if arg.get("pagination") else ""
        return f"!http {arg.get('method', 'GET')} {_short(str(target), 60)}{paged}"
    if name == "!save" and isinstance(arg, dict):
        return f"!save to {arg.get('scope', '?')}"
    if isinstance(arg, str):
        return f"{name} {_short(arg)}"
    return f"{name} {_short(json.dumps(_masked(arg), ensure_ascii=False))}"


def _masked(value: Any) -> Any:
    """`value` with the values of secret-looking keys replaced by ***."""
    if isinstance(value, dict):
        return {k: "***" if any(word in str(k).lower() for word in _SECRET)
                and not isinstance(v, dict | list) else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _short(text: str, limit: int = 48) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
