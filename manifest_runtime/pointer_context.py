"""What evaluating the node at one pointer of a manifest needs from around it: the auth of
its workflow, the role `!resource` plays there, and custom data given by hand completed from
the form fields' static options. Used by `eval` (cli/eval.py) and case files (cases.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .errors import UsageError

if TYPE_CHECKING:
    from .model import CompiledManifest
    from .paths import Path


def auth_name_for(compiled: CompiledManifest, path: Path) -> str | None:
    """The auth of the workflow the pointer is in (or that uses the intake it is in)."""
    from .workflows import intakes, workflows

    found = workflows(compiled)
    data = compiled.data if isinstance(compiled.data, dict) else {}
    auths = data.get("auth") if isinstance(data.get("auth"), dict) else {}
    if len(path) > 1 and path[0] == "workflows" and isinstance(path[1], int) \
            and path[1] < len(found):
        return found[path[1]].auth
    if len(path) > 1 and path[0] == "data_intake" and isinstance(path[1], int):
        listed = intakes(compiled)
        name = listed[path[1]].name if path[1] < len(listed) else None
        for w in found:
            if name is not None and name in (w.data_intake, w.historical_data_intake):
                return w.auth
    return next(iter(auths), None) if isinstance(auths, dict) else None


def pipeline_role(path: Path) -> Literal["source", "target"] | None:
    """Under data_pipeline/source or /target, `!resource ActiveCampaignContact` plays that role
    whatever the input looks like; elsewhere it is guessed from the input."""
    for i, part in enumerate(path[:-1]):
        if part == "data_pipeline" and path[i + 1] in ("source", "target"):
            return "source" if path[i + 1] == "source" else "target"
    return None


def custom_data_arg(raw: Any, data: Any, path: Path, what: str = "--custom-data"
                    ) -> dict[str, Any] | None:
    """Normalise custom data given by hand (`what`: --custom-data, a case's custom_data): a
    bare value gets its display from the field's static options (or the value itself when
    none matches)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise UsageError(f'{what} must be an object: {{"field": "value", ...}}')
    options = _static_options(data, path)
    out: dict[str, Any] = {}
    for field_id, given in raw.items():
        if isinstance(given, dict) and "value" in given:
            out[field_id] = given
            continue
        display = given
        for option in options.get(field_id, []):
            if isinstance(option, dict) and option.get("value") == given:
                display = option.get("display", given)
        out[field_id] = {"value": given, "display": display}
    return out


def _static_options(data: Any, path: Path) -> dict[str, list[Any]]:
    """Static options of the form fields of the workflows the pointer belongs to."""
    workflows = data.get("workflows") if isinstance(data, dict) else None
    if not isinstance(workflows, list):
        return {}
    if len(path) > 1 and path[0] == "workflows" and isinstance(path[1], int) \
            and path[1] < len(workflows):
        workflows = [workflows[path[1]]]
    out: dict[str, list[Any]] = {}
    for w in workflows:
        select = ((w.get("setup") or {}).get("select") or {}) if isinstance(w, dict) else {}
        fields = select.get("form_fields") if isinstance(select, dict) else None
        for f in fields if isinstance(fields, list) else []:
            if isinstance(f, dict) and isinstance(f.get("options"), list):
                out.setdefault(str(f.get("id")), []).extend(f["options"])
    return out
