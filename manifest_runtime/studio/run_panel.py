"""The run panel: pasted or uploaded payloads (inbound) or contacts (outbound), one JSON value
a line, through the workflow's pipeline with the batch engine of `run` (Services.run_records:
the saved setup, one writer per workflow, resume by record identity); then each record's
outcome, the workflow's dead letters and the sandbox contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ManifestRuntimeError, UsageError
from . import render

if TYPE_CHECKING:
    from ..model import CompiledManifest
    from ..pipeline.batch import RecordResult
    from .services import Services
    from .trace import TraceLog


def run_payloads(compiled: CompiledManifest, name: str, text: str, restart: bool,
                 services: Services, log: TraceLog) -> str:
    from ..workflows import workflows
    from .services import RunRequest

    found = {w.name: w for w in workflows(compiled)}
    if name not in found:
        return f'<p class="refused">the manifest has no workflow {render.e(name)!s}</p>'
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        what = "payloads" if found[name].inbound else "contacts"
        return f'<p class="refused">Paste or upload {what} first: one JSON value a line.</p>'
    results: list[dict[str, object]] = []

    def one(r: RecordResult) -> None:
        results.append(r.as_json())
        if r.trace:
            log.text(f"record {r.line} ({r.status})", "\n".join(r.trace))
        for d in r.dead:
            log.warning(f"record {r.line}: dead letter [{d.code}] {d.message}")

    try:
        summary, trace = services.run_records(compiled, found[name], RunRequest(lines, restart),
                                              one)
    except ManifestRuntimeError as exc:
        return f'<div class="refused">{render.diagnostic(exc.diagnostic)}</div>'
    except UsageError as exc:  # no setup saved yet, another run writing for the workflow
        return f'<p class="refused" id="run-refused">{render.e(exc)}</p>'
    if trace:
        log.text(f"{summary.read} records: every step and HTTP attempt", "\n".join(trace))
    line = f"{name}: read {summary.read}, delivered {summary.delivered}, failed {summary.failed}"
    if summary.unknown:
        line += f", outcome unknown {summary.unknown}"
    if summary.skipped:
        line += f"; {summary.skipped} of them skipped, done in an earlier run (tick “run " \
            "again” to send them again)"
    return render.run_results(line, results)


def sandbox_html(services: Services, workflow: str | None) -> str:
    from ..activecampaign.listing import listing
    from ..pipeline.journal import Journal

    state = services.open_state()
    try:
        contacts = listing(state.sandbox(), "contacts")
        dead = Journal(state.db, state.lock).dead_letters(workflow or None)
    finally:
        state.close()
    rows = [{"line": d.record_no, "item": d.item, "stage": d.stage, "code": d.code,
             "message": d.message, "hint": d.hint, "at": d.pointer} for d in dead]
    return ("<h3>Dead letters</h3>"
            + render.table(rows, "dead-letters", "No dead letters.")
            + "<h3>Sandbox contacts</h3>"
            + render.table(contacts, "contacts", "The sandbox account has no contacts."))
