"""Which workflow to set up: --workflow, the answers' `workflow`, the only one, or (on a
terminal) the one picked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UsageError, choices_hint
from .model import UNANSWERED, Answerer, WorkflowChoice, answer_error
from .values import as_dict, as_str

if TYPE_CHECKING:
    from ..model import CompiledManifest


def workflow_choices(compiled: CompiledManifest) -> list[WorkflowChoice]:
    workflows = as_dict(compiled.data).get("workflows")
    out: list[WorkflowChoice] = []
    for w in workflows if isinstance(workflows, list) else []:
        w = as_dict(w)
        name = as_str(w.get("name")) or ""
        out.append(WorkflowChoice(name, as_str(w.get("label")) or name,
                                  as_str(w.get("type")) or ""))
    return out


def choose_workflow(compiled: CompiledManifest, requested: str | None,
                    answerer: Answerer) -> int:
    """The index of the workflow to set up: --workflow, else the answers' `workflow`, else
    the only one, else (on a terminal) the one picked. UsageError when none can be told."""
    choices = workflow_choices(compiled)
    names = [c.name for c in choices]
    if not choices:
        raise UsageError("the manifest has no workflows")
    if requested is not None and requested not in names:
        raise UsageError(f"the manifest has no workflow {requested!r}; "
                         f"{choices_hint(requested, names, 'workflows')}")
    answered: Any = UNANSWERED
    if not answerer.interactive or (requested is None and len(choices) > 1):
        answered = answerer.workflow(choices)
    if answered is not UNANSWERED and answered is not None:
        if not isinstance(answered, str) or answered not in names:
            raise answer_error(answerer, "answers-unknown-workflow",
                               f"the manifest has no workflow {answered!r}", ("workflow",),
                               hint=choices_hint(str(answered), names, "workflows"))
        if requested is not None and requested != answered:
            raise UsageError(f"--workflow {requested} and the answers file's workflow "
                             f"{answered!r} differ; give one of them")
        return names.index(answered)
    if requested is not None:
        return names.index(requested)
    if len(choices) == 1:
        return 0
    raise UsageError(f"the manifest has {len(choices)} workflows ({', '.join(names)}); "
                     "choose one with --workflow NAME or `workflow:` in the answers file")
