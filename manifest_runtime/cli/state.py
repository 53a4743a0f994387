"""`manifest-runtime state show [--workflow NAME] [--format json]`: what the state file holds
(DESIGN §5): each workflow's setup (connection, custom_data, selection, mapping, schedule,
credentials masked), the `!save` data, and the dead letters of `run`.

Secrets never reach the output: the `credentials` of a setup are masked field by field, and
the whole report goes through a Redactor that knows every setup's secret values (and those of
the `MANIFEST_RUNTIME_*` environment variables), so a connection description, a custom_data
answer, saved data or a dead letter that echoes a token shows `***` instead."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import UsageError
from ..http.credentials import ENV_VARS, credentials_from_mapping
from ..http.redact import Redactor
from ..pipeline.transform import PAIRS, mapping_pairs
from .session import add_state_option, existing_state

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
    add_state_option(show)
    show.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline.journal import Journal

    with existing_state(args.state) as state:
        path = state.path
        every = state.setups()
        saved = {scope: state.store.get_all(scope)
                 for scope in ("workflow", "connection", "application")}
        dead = Journal(state.db, state.lock).dead_letters(args.workflow)
    setups = [s for s in every if args.workflow in (None, s.workflow)]
    redactor = secrets_of(s.credentials for s in every)
    report = redactor.value({
        "state": path,
        "setups": [{**s.as_json(), "credentials": masked(s.credentials)} for s in setups],
        "saved_data": {k: v for k, v in saved.items() if v},
        "dead_letters": [d.as_json() for d in dead],
    })
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(text(report))
    return 0


def secrets_of(entries: Iterable[dict[str, Any] | None],
               environ: Mapping[str, str] | None = None) -> Redactor:
    """A Redactor for the secret values of saved credentials entries and of the credential
    environment variables (`MANIFEST_RUNTIME_*`), as HttpClient builds one from its
    Credentials. An entry that is not a valid credentials entry (edited by hand) counts each
    value but the subdomain, username and expires_at as a secret."""
    env = os.environ if environ is None else environ
    from_env = {name: env[var] for name, var in ENV_VARS.items() if env.get(var)}
    redactor = Redactor()
    for entry in (*entries, from_env):
        if not entry:
            continue
        try:
            creds = credentials_from_mapping(entry, "credentials")
        except UsageError:
            redactor.add(*(str(v) for k, v in entry.items()
                           if k not in NOT_SECRET | {"username"} and v is not None))
            continue
        redactor.add(*creds.secret_values())
        redactor.add_basic(creds.username, creds.password)
    return redactor


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
        mapping = s.get("mapping") or {}
        for source, target in mapping_pairs(mapping):
            if PAIRS in mapping:
                lines.append(f"  map {source} -> {target}")
            else:  # the plain form of earlier versions: group.id and dotted ids look alike
                lines.append(f"  map {source.id} -> {target.id}")
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
