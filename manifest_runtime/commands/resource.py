"""`!resource`: read or write ActiveCampaign data (the sandbox account, or a real one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import choices_hint, describe
from ..model import Node
from ..runtime.errors import fail
from ..runtime.evaluate import evaluate
from .base import CommandSpec

if TYPE_CHECKING:
    from ..activecampaign.types import ActiveCampaign
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext

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


# ---------------------------------------------------------------------- run


def run_resource(node: ResourceNode, value: Any, ctx: EvalContext) -> Any:
    """Read or write through the context's ActiveCampaign account (`ctx.ac`)."""
    ac = ctx.ac
    if ac is None:
        raise fail("no-activecampaign", f"!resource {node.name} needs an ActiveCampaign "
                   "account, and none is configured")
    name = node.name
    if name == "ActiveCampaignContact":
        return _contact(value, ctx, ac)
    if name.endswith(".fields"):
        fields = {"ActiveCampaignContact.fields": ac.contact_fields,
                  "ActiveCampaign.fields": ac.all_fields,
                  "ActiveCampaignAccount.fields": ac.account_fields,
                  "ActiveCampaignDeal.fields": ac.deal_fields}[name]
        return fields()
    data = evaluate(node.data, value, ctx) if node.data is not None else value
    if not isinstance(data, dict):
        raise fail("resource-input", f"{name} takes an object, got {describe(data)}")
    ctx.note("data", data)
    if name == "ActiveCampaign.sync":
        return ac.sync(data)
    if name == "ActiveCampaignAccount.sync":
        return ac.account_sync(data)
    return ac.deal_sync(data)


def _contact(value: Any, ctx: EvalContext, ac: ActiveCampaign) -> Any:
    """As a source: the contact being processed. As a target: upsert the input by email.
    Without a declared role, an object input means target and anything else source."""
    role = ctx.env.resource_role
    if role is None:
        role = "target" if isinstance(value, dict) and value else "source"
    if role == "target":
        if not isinstance(value, dict):
            raise fail("resource-input", f"ActiveCampaignContact (target) takes a contact "
                       f"object, got {describe(value)}")
        return ac.upsert_contact(value)
    contact = ctx.env.contact if ctx.env.contact is not None else ac.current_contact()
    if contact is None:
        raise fail("no-contact", "ActiveCampaignContact: no contact is being processed",
                   hint="give one with --contacts (run) or --input (eval)")
    return contact


SPEC = CommandSpec("!resource", "read or write ActiveCampaign contacts, fields, accounts, deals",
                   compile_resource, run_resource)
