"""`manifest-runtime state show [--workflow NAME] [--format json]`: what the state file holds
(DESIGN §5): each workflow's setup (connection, custom_data, selection, mapping, schedule,
credentials masked), the `!save` data, and the dead letters of `run`."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ..errors import UsageError

MASK = "***"
NOT_SECRET = frozenset({"subdomain", "expires_at"})
SHOWN_DEAD = 20  # dead letters listed in text (JSON lists them all)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("state", help="show what the state file holds",
                       description="Show the state file: setups (secrets masked), saved data "
                       "and dead letters.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("show", help="print the state (secrets masked)")
    show.add_argument("--workflow", metavar="NAME", help="only this workflow")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.add_argument("--state", metavar="PATH",
                      help="the state file (default: $MANIFEST_RUNTIME_STATE or "
                      ".manifest-runtime/state.db)")
    show.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline.journal import Journal
    from ..state import MEMORY, StateFile, state_path

    path = state_path(args.state)
    if path != MEMORY and not os.path.exists(path):
        raise UsageError(f"no state file at {path}: nothing has been set up or run yet, or "
                         "pass --state PATH")
    with StateFile(path) as state:
        setups = [s for s in state.setups() if args.workflow in (None, s.workflow)]
        saved = {scope: state.store.get_all(scope)
                 for scope in ("workflow", "connection", "application")}
        dead = Journal(state.db, state.lock).dead_letters(args.workflow)
    report = {
        "state": path,
        "setups": [{**s.as_json(), "credentials": masked(s.credentials)} for s in setups],
        "saved_data": {k: v for k, v in saved.items() if v},
        "dead_letters": [d.as_json() for d in dead],
    }
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(text(report))
    return 0


def masked(credentials: dict[str, Any] | None) -> dict[str, Any] | None:
    if credentials is None:
        return None
    return {k: v if k in NOT_SECRET else MASK for k, v in credentials.items()}


def text(report: dict[str, Any]) -> str:
    lines = [f"state file: {report['state']}"]
    if not report["setups"]:
        lines.append("no setups (run `manifest-runtime setup MANIFEST`)")
    for s in report["setups"]:
        lines.append(f"\nworkflow {s['workflow']}")
        connection = s.get("connection") or {}
        if connection:
            lines.append(f"  connection: {connection.get('description')} "
                         f"(account {connection.get('account_id')})")
        for field_id, answer in (s.get("custom_data") or {}).items():
            lines.append(f"  {field_id}: {_answer(answer)}")
        selection = s.get("selection") or {}
        if selection:
            lines.append(f"  selection: {selection.get('display')} "
                         f"(resource {selection.get('resource_id')})")
        for source, target in (s.get("mapping") or {}).items():
            lines.append(f"  map {source} -> {target}")
        if s.get("schedule"):
            lines.append(f"  schedule: {json.dumps(s['schedule'])}")
        if s.get("credentials"):
            shown = ", ".join(f"{k}={v}" for k, v in s["credentials"].items())
            lines.append(f"  credentials: {shown}")
    for scope, values in report["saved_data"].items():
        lines.append(f"\nsaved data ({scope}): {json.dumps(values, ensure_ascii=False)}")
    dead = report["dead_letters"]
    lines.append(f"\ndead letters: {len(dead)}")
    for d in dead[-SHOWN_DEAD:]:
        item = f"[{d['item']}]" if d["item"] is not None else ""
        lines.append(f"  {d['workflow']} record {d['record']}{item} at {d['stage']}: "
                     f"{d['code']}: {d['error']}")
    if len(dead) > SHOWN_DEAD:
        lines.append(f"  ... the first {len(dead) - SHOWN_DEAD} not shown (--format json)")
    return "\n".join(lines)


def _answer(answer: Any) -> str:
    if isinstance(answer, dict) and "value" in answer:
        value, display = answer.get("value"), answer.get("display")
        return f"{display} ({value})" if display not in (None, value) else str(value)
    return json.dumps(answer, ensure_ascii=False)
