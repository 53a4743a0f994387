"""A typed view of a compiled manifest's workflows and data intakes (reference §3, §4).

The commands that run a workflow (run, poll, serve) read its name, type, auth, intakes and
setup steps from here instead of digging in the raw manifest data. A valid manifest has the
shapes these expect; anything odd in an invalid one reads as absent (never an exception).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .model import CompiledManifest
    from .paths import Path


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Intake:
    """One entry of `data_intake`."""

    index: int
    name: str
    type: str  # webhook | polling | ...
    scope: str  # workflow | application
    import_option: str | None = None
    frequency: int | None = None

    @property
    def path(self) -> Path:
        return ("data_intake", self.index)

    @property
    def polling(self) -> bool:
        return self.type == "polling"

    @property
    def webhook(self) -> bool:
        return self.type == "webhook"


@dataclass(frozen=True)
class Workflow:
    """One entry of `workflows`."""

    index: int
    name: str
    label: str
    type: str  # generic (inbound) | automations (outbound)
    auth: str | None
    data_intake: str | None
    historical_data_intake: str | None
    setup: Mapping[str, Any] = field(default_factory=dict)  # the raw setup steps

    @property
    def path(self) -> Path:
        return ("workflows", self.index)

    @property
    def inbound(self) -> bool:
        return self.type == "generic"

    @property
    def asks(self) -> bool:
        """Does setup ask something (a select or map step) that run needs saved?"""
        return isinstance(self.setup.get("select"), dict) or \
            isinstance(self.setup.get("map"), dict)

    @property
    def maps(self) -> bool:
        """A map step with something to map to (else the transform is the identity)."""
        step = self.setup.get("map")
        return isinstance(step, dict) and "describe_target" in step

    def required_fields(self) -> list[str]:
        """The ids of the select step's required form fields."""
        fields = _dict(self.setup.get("select")).get("form_fields")
        return [str(f.get("id")) for f in (fields if isinstance(fields, list) else [])
                if isinstance(f, dict) and f.get("required", True) is not False]


def workflows(compiled: CompiledManifest) -> list[Workflow]:
    raw = _dict(compiled.data).get("workflows")
    out: list[Workflow] = []
    for index, w in enumerate(raw if isinstance(raw, list) else []):
        w = _dict(w)
        name = str(w.get("name"))
        out.append(Workflow(index, name, _str(w.get("label")) or name, _str(w.get("type")) or "",
                            _str(w.get("auth")), _str(w.get("data_intake")),
                            _str(w.get("historical_data_intake")), _dict(w.get("setup"))))
    return out


def choose(compiled: CompiledManifest, name: str | None) -> Workflow:
    """--workflow NAME, or the only workflow (UsageError otherwise, listing the names)."""
    found = workflows(compiled)
    names = [w.name for w in found]
    if name is None:
        if len(found) == 1:
            return found[0]
        raise UsageError(f"the manifest has {len(found)} workflows: pass --workflow NAME "
                         f"({', '.join(names)})")
    if name not in names:
        from .errors import choices_hint

        raise UsageError(f"no workflow {name!r}; {choices_hint(name, names, 'workflows:')}")
    return found[names.index(name)]


def intakes(compiled: CompiledManifest) -> list[Intake]:
    raw = _dict(compiled.data).get("data_intake")
    out: list[Intake] = []
    for index, d in enumerate(raw if isinstance(raw, list) else []):
        d = _dict(d)
        frequency = d.get("frequency")
        out.append(Intake(index, str(d.get("name")), _str(d.get("type")) or "",
                          _str(d.get("scope")) or "workflow", _str(d.get("import_option")),
                          frequency if isinstance(frequency, int)
                          and not isinstance(frequency, bool) else None))
    return out


def intake_named(compiled: CompiledManifest, name: str | None) -> Intake | None:
    if name is None:
        return None
    return next((i for i in intakes(compiled) if i.name == name), None)


def polling_intake(compiled: CompiledManifest, workflow: Workflow) -> tuple[Intake, bool]:
    """(intake, historical?) of the workflow's polling intake: its data_intake, else its
    historical_data_intake. UsageError when it has neither."""
    for name, historical in ((workflow.data_intake, False),
                             (workflow.historical_data_intake, True)):
        intake = intake_named(compiled, name)
        if intake is not None and intake.polling:
            return intake, historical
    raise UsageError(f"workflow {workflow.name!r} has no polling data_intake (its "
                     f"data_intake is {workflow.data_intake!r}); a webhook intake is served "
                     "with `manifest-runtime serve MANIFEST`, or fed recorded payloads with "
                     "`manifest-runtime run MANIFEST --input payloads.jsonl`")
