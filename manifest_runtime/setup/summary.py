"""The short report `setup` prints once the setup is saved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..runtime.errors import excerpt

if TYPE_CHECKING:
    from .flow import SetupOutcome


def summary_lines(outcome: SetupOutcome, state_path: str) -> list[str]:
    """The short report `setup` prints (pass it through the redactor)."""
    setup = outcome.setup
    lines = [f"setup of workflow {setup.workflow!r} ({outcome.workflow_label}) saved in "
             f"{state_path}"]
    connection = setup.connection or {}
    described = connection.get("description")
    account = connection.get("account_id")
    if setup.connection is None:
        lines.append(f"  connection: {outcome.auth_name} (no describe_connection output)")
    else:
        lines.append(f"  connection: {described if described is not None else '(no description)'}"
                     + (f" (account {account})" if account is not None else ""))
    lines.append(f"  credentials: {outcome.verified}")
    for form_field, entry in outcome.fields:
        if entry is None:
            shown = "(not answered)"
        elif form_field.type in ("text", "textarea"):
            shown = excerpt(entry["value"], 100) if "\n" in entry["value"] or \
                len(entry["value"]) > 100 else entry["value"]
        elif form_field.type == "multiselect":
            shown = ", ".join(f"{d} ({v})" if str(v) != d else d
                              for v, d in zip(entry["value"], entry["display"], strict=True)) \
                or "(none)"
        else:
            value, display = entry["value"], entry["display"]
            shown = display if str(value) == display else f"{display} ({value})"
        lines.append(f"  {form_field.label}: {shown}")
    if setup.selection is not None:
        lines.append(f"  selection: {setup.selection.get('display')} "
                     f"(resource {setup.selection.get('resource_id')})")
    if outcome.has_map:
        lines.append("  mapping:" if outcome.mapped else "  mapping: (nothing mapped)")
        for m in outcome.mapped:
            source = m.source.describe() if m.source is not None else m.source_key
            target = m.target.describe() if m.target is not None else m.target_key
            lines.append(f"    {source} -> {target}")
    if setup.schedule is not None:
        lines.append(f"  schedule: {setup.schedule['import_option']}, every "
                     f"{setup.schedule['frequency']} s")
    return lines
