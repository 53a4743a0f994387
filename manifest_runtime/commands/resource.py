"""`!resource`: read or write ActiveCampaign data (the sandbox account, or a real one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..compiler import describe
from ..errors import choices_hint
from ..model import Node
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compiler import Compiler, Scope
    from ..paths import Path

RESOURCES = (
    "ActiveCampaignContact",
    "ActiveCampaignContact.fields",
    "ActiveCampaign.fields",
    "ActiveCampaignAccount.fields",
    "ActiveCampaignDeal.fields",
    "ActiveCampaign.sync",
    "ActiveCampaignAccount.sync",
    "ActiveCampaignDeal.sync",
)
ACTIONS = ("ActiveCampaignAccount.sync", "ActiveCampaignDeal.sync", "ActiveCampaign.sync")


@dataclass(frozen=True, slots=True)
class ResourceNode:
    name: str
    data: Node | None  # the object form's `data` (None: the input is the data)


def compile_resource(raw: Any, path: Path, c: Compiler, scope: Scope) -> ResourceNode | None:
    if isinstance(raw, str):
        if raw not in RESOURCES:
            c.report("invalid-argument", f"unknown resource {raw!r}", path,
                     hint=choices_hint(raw, RESOURCES, "resources"))
            return None
        return ResourceNode(raw, None)
    args = c.object_arg(raw, path, "!resource", {"action": True, "data": False})
    if args is None or "action" not in args:
        return None
    action = args["action"]
    if action not in ACTIONS:
        c.report("invalid-argument", f"!resource action must be one of {', '.join(ACTIONS)}, "
                 f"got {describe(action)}", (*path, "action"),
                 hint=choices_hint(str(action), ACTIONS, "actions"))
        return None
    data = c.value(args["data"], (*path, "data"), scope) if "data" in args else None
    return ResourceNode(action, data)


SPEC = CommandSpec("!resource", "read or write ActiveCampaign contacts, fields, accounts, deals",
                   compile_resource)
