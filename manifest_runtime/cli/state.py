"""`manifest-runtime state show [--workflow NAME] [--format json]`: what the state file holds
(DESIGN §5): each workflow's setup (connection, custom_data, selection, mapping, schedule,
credentials masked), the `!save` data, each polling workflow's `polling_state`, the historical
imports, the webhook registrations and the webhook journal's counts (serve), and the dead
letters of `run`, `poll` and `serve` (text: grouped by error code, one line each; JSON: every
one, plus the groups).

Secrets never reach the output: the `credentials` of a setup are masked field by field, and
the whole report goes through a Redactor that knows every setup's secret values (and those of
the `MANIFEST_RUNTIME_*` environment variables), so a connection description, a custom_data
answer, saved data or a dead letter that echoes a token shows `***` instead."""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from ..errors import UsageError
from ..http.credentials import ENV_VARS, credentials_from_mapping
from ..http.redact import Redactor
from ..pipeline.transform import PAIRS, mapping_pairs
from ..store import StateDB
from .session import add_state_option, existing_state

MASK = "***"
NOT_SECRET = frozenset({"subdomain", "expires_at"})
ERROR_WIDTH = 120  # an error message in a text line is cut to this many characters


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
    copy = actions.add_parser(
        "copy", help="copy the whole state into an empty one (e.g. SQLite to PostgreSQL)",
        description="Copy every table of the state (--state) into an empty state (--to): a "
        "SQLite file into a PostgreSQL database when several processes are to share it, or "
        "back. Which process writes for a workflow is not copied.")
    copy.add_argument("--to", metavar="PATH|URL", required=True,
                      help="the new state: a file name or a postgresql:// URL (docs/state.md)")
    add_state_option(copy)
    copy.set_defaults(handler=run_copy)


def run_copy(args: argparse.Namespace) -> int:
    from ..state import StateFile, state_path
    from ..store import shown
    from ..store.copy import copy_state
    from ..store.schema import OUR_TABLES

    source_path = state_path(args.state)
    if shown(args.to) == shown(source_path):
        raise UsageError(f"--to {shown(args.to)} is the state being copied; give a new one")
    with existing_state(args.state) as source, StateFile(args.to) as target, source.lock:
        _make_tables(source)
        tables = sorted(t for t in OUR_TABLES if _has(source, t))
        copied = copy_state(source.db, target.db, tables, lambda _: _make_tables(target))
    total = sum(c.rows for c in copied)
    print(f"copied {total} row(s) from {source.path} to {target.path}:")
    for c in copied:
        if c.rows:
            print(f"  {c.table}: {c.rows}")
    return 0


def _has(state: Any, table: str) -> bool:
    return bool(state.has_table(table))


def _make_tables(state: Any) -> None:
    """Every table of every part, as opening each part makes them."""
    from ..intake.journal import WebhookJournal
    from ..pipeline.journal import Journal
    from ..pipeline.polling import HistoricalImports

    Journal(state.db, state.lock)
    WebhookJournal(state.db, state.lock)
    HistoricalImports(state.db, state.lock)
    state.sandbox()


def run(args: argparse.Namespace) -> int:
    from ..intake.journal import WebhookJournal
    from ..pipeline.journal import Journal
    from ..pipeline.polling import HistoricalImports

    wanted = args.workflow
    with existing_state(args.state) as state:
        path = state.path
        every = state.setups()
        saved = {scope: state.store.get_all(scope)
                 for scope in ("workflow", "connection", "application")}
        dead = Journal(state.db, state.lock).dead_letters(wanted)
        polling = [(w, stored, value, at) for w, stored, value, at in state.polling_states()
                   if wanted in (None, w)]
        imports = [h for h in HistoricalImports(state.db, state.lock).all()
                   if wanted in (None, h.workflow)]
        webhooks = WebhookJournal(state.db, state.lock)
        registrations = [r for r in webhooks.registrations() if wanted in (None, r.workflow)]
        receivers = [{**asdict(m), "alive": m.alive()} for m in webhooks.members(wanted)]
        journal = webhook_counts(state.db, state.lock, wanted)
    setups = [s for s in every if wanted in (None, s.workflow)]
    redactor = secrets_of(s.credentials for s in every)
    report = redactor.value({
        "state": path,
        "setups": [{**s.as_json(), "credentials": masked(s.credentials)} for s in setups],
        "saved_data": {k: v for k, v in saved.items() if v},
        "polling_state": {w: {"polling_state": value if stored else None,
                              "initial_setup_ran": True, "updated_at": at}
                          for w, stored, value, at in polling},
        "historical_imports": {h.workflow: h.as_json() for h in imports},
        "webhook_registrations": [asdict(r) for r in registrations],
        "webhook_receivers": receivers,
        "webhook_journal": journal,
        "dead_letter_codes": dead_letter_codes([d.as_json() for d in dead]),
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
    lines += _runtime_lines(report)
    return "\n".join(lines)


def webhook_counts(db: StateDB, lock: threading.RLock, workflow: str | None
                   ) -> dict[str, dict[str, Any]]:
    """Per workflow: webhooks received, by outcome, and the records delivered / failed."""
    query = "SELECT workflow, outcome, COUNT(*), SUM(delivered), SUM(failed) FROM " \
            "webhook_journal"
    args: tuple[str, ...] = ()
    if workflow is not None:
        query += " WHERE workflow = ?"
        args = (workflow,)
    with lock:
        rows = db.execute(query + " GROUP BY workflow, outcome ORDER BY workflow, outcome",
                          args).fetchall()
    out: dict[str, dict[str, Any]] = {}
    for name, outcome, count, delivered, failed in rows:
        entry = out.setdefault(name, {"received": 0, "outcomes": {}, "delivered": 0,
                                      "failed": 0})
        entry["received"] += count
        entry["outcomes"][outcome] = count
        entry["delivered"] += delivered or 0
        entry["failed"] += failed or 0
    return out


def dead_letter_codes(dead: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dead letters grouped by (workflow, stage, code): how many, which records, and the
    first one's error."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for d in dead:
        key = (d["workflow"], d["stage"], d["code"])
        group = groups.setdefault(key, {"workflow": key[0], "stage": key[1], "code": key[2],
                                        "count": 0, "records": [], "error": d["error"]})
        group["count"] += 1
        if d["record"] not in group["records"]:
            group["records"].append(d["record"])
    return list(groups.values())


def _short(text: Any, width: int = ERROR_WIDTH) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= width else one[:width - 3] + "..."


def _records(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    return shown + (f" ... ({len(numbers) - 5} more)" if len(numbers) > 5 else "")


def _runtime_lines(report: dict[str, Any]) -> list[str]:
    """polling_state, historical imports, webhook registrations and journal, dead letters."""
    lines: list[str] = []
    if report["polling_state"]:
        lines.append("\npolling state:")
        for workflow, entry in report["polling_state"].items():
            value = entry["polling_state"]
            shown = json.dumps(value, ensure_ascii=False) if value is not None else \
                "(none stored; initial_setup ran)"
            lines.append(f"  {workflow}: {_short(shown, 200)} (updated {entry['updated_at']})")
    if report["historical_imports"]:
        lines.append("\nhistorical imports:")
        for workflow, h in report["historical_imports"].items():
            when = f"completed {h['finished_at']}" if h["finished_at"] else \
                f"started {h['started_at']}, not completed (the next poll goes on)"
            lines.append(f"  {workflow} ({h['intake']}): {when}; {h['requests']} request(s), "
                         f"{h['results']} result(s)"
                         + (f"; stopped: {h['stopped_by']}" if h["stopped_by"] else ""))
    if report["webhook_registrations"]:
        lines.append("\nwebhook registrations:")
        for r in report["webhook_registrations"]:
            owner = f", by {r['owner']}" if r.get("owner") else ""
            status = r.get("status") or "registered"
            detail = f": {_short(r['detail'])}" if r.get("detail") else ""
            if detail and status != "registered":
                detail += "; check the provider, then `serve --forget-registration`"
            lines.append(f"  {r['workflow']} ({r['intake']}): {r['url']} ({status} "
                         f"{r['registered_at']}{owner}{detail})")
    if report["webhook_receivers"]:
        lines.append("\nwebhook receivers (serve processes):")
        for m in report["webhook_receivers"]:
            how = "running" if m["alive"] else "gone (its row is removed by the next serve)"
            lines.append(f"  {m['workflow']}: {m['member']} at {m['url']} (since "
                         f"{m['joined_at']}, last heard {m['seen_at']}; {how})")
    if report["webhook_journal"]:
        lines.append("\nwebhook journal:")
        for workflow, counts in report["webhook_journal"].items():
            outcomes = ", ".join(f"{k} {v}" for k, v in counts["outcomes"].items())
            lines.append(f"  {workflow}: {counts['received']} received ({outcomes}); "
                         f"{counts['delivered']} record(s) delivered, {counts['failed']} "
                         "failed")
    dead = report["dead_letters"]
    lines.append(f"\ndead letters: {len(dead)}"
                 + (" (by error code; --format json lists each)" if dead else ""))
    for g in report["dead_letter_codes"]:
        lines.append(f"  {g['workflow']} {g['code']} at {g['stage']}: {g['count']} "
                     f"(record {_records(g['records'])}): {_short(g['error'])}")
    return lines


def _answer(answer: Any) -> str:
    if isinstance(answer, dict) and "value" in answer:
        value, display = answer.get("value"), answer.get("display")
        return f"{display} ({value})" if display not in (None, value) else str(value)
    return json.dumps(answer, ensure_ascii=False)
