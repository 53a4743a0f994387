"""Flat cost (issue 11.1): every statement a record costs in the state file is an index lookup,
never a scan, so the 100,000th record costs what the first did. Each statement executed while
records are delivered into the sandbox and journaled is captured and run through
EXPLAIN QUERY PLAN."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from manifest_runtime.pipeline.journal import DeadLetter, Ended, Journal
from manifest_runtime.state import StateFile


def _plans(db: sqlite3.Connection, statements: list[str]) -> dict[str, list[str]]:
    plans = {}
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            continue
        rows = db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        plans[sql] = [row[-1] for row in rows]
    return plans


def _reads_all(step: str) -> bool:
    """A plan step that visits every row: a SCAN (even of an index), or a SEARCH without an
    index to search (SQLite's plan for MAX() over an unindexed column)."""
    if step.startswith("SCAN"):
        return step != "SCAN CONSTANT ROW"
    return step.startswith("SEARCH") and " USING " not in step


def test_a_record_delivered_into_the_sandbox_scans_no_table(tmp_path: Path) -> None:
    state = StateFile(str(tmp_path / "state.db"))
    account = state.sandbox()
    journal = Journal(state.db, state.lock)
    for i in range(20):  # some rows already there, as in a long-lived state file
        account.upsert_contact({"email": f"old{i}@example.com", "_tags": ["old"]})
    executed: list[str] = []
    state.db.set_trace_callback(executed.append)
    account.upsert_contact({"email": "new@example.com", "firstName": "New", "1": "Acme",
                            "_tags": ["vip", "new"]})
    account.upsert_contact({"email": "OLD1@example.com", "lastName": "Again"})
    dead = DeadLetter("wf", 2, None, "target", "x", "m", "/p", {"a": 1})
    journal.finish("wf:digest", 1, [])
    journal.finish("wf:digest", 2, [dead])
    state.db.set_trace_callback(None)
    plans = _plans(state.db, executed)
    assert len(plans) >= 6, executed  # the capture saw the upserts and the journal
    scans = {sql: plan for sql, plan in plans.items() if any(_reads_all(step) for step in plan)}
    assert not scans, scans
    state.close()


def test_a_tag_of_a_rolled_back_upsert_is_written_by_the_next(tmp_path: Path) -> None:
    """The sandbox remembers the tags it wrote, to skip writing them again: only once the
    transaction holding them committed."""
    state = StateFile(str(tmp_path / "state.db"))
    account = state.sandbox()
    storage = account.storage
    try:
        with storage.transaction():
            storage.add_tag("fresh")
            raise RuntimeError("the record failed after its tag")
    except RuntimeError:
        pass
    assert account.tags == []
    account.upsert_contact({"email": "a@example.com", "_tags": ["fresh"]})
    account.upsert_contact({"email": "b@example.com", "_tags": ["fresh"]})
    assert account.tags == ["fresh"]
    state.close()


def test_a_batch_of_records_into_the_sandbox_scans_no_table(tmp_path: Path) -> None:
    """Inside a batch the sandbox writes its records and ids when the batch commits (one
    statement each): those statements, and the journal's, are index lookups too."""
    state = StateFile(str(tmp_path / "state.db"))
    account = state.sandbox()
    journal = Journal(state.db, state.lock)
    for i in range(20):
        account.upsert_contact({"email": f"old{i}@example.com", "_tags": ["old"]})
    executed: list[str] = []
    state.db.set_trace_callback(executed.append)
    with state.batch():
        account.upsert_contact({"email": "new@example.com", "1": "Acme", "_tags": ["vip"]})
        account.upsert_contact({"email": "new2@example.com", "_tags": ["vip"]})
        account.upsert_contact({"email": "OLD1@example.com", "lastName": "Again"})
        journal.ended("wf", [Ended("k1", 1, "delivered"), Ended("k2", 2, "delivered")],
                      commit=False)
    state.db.set_trace_callback(None)
    # the batch's own statements, without the values sqlite3 inlines into the trace
    assert any("INSERT INTO ac_records" in sql for sql in executed), executed
    assert any("UPDATE ac_ids" in sql for sql in executed), executed
    plans = _plans(state.db, executed)
    scans = {sql: plan for sql, plan in plans.items() if any(_reads_all(step) for step in plan)}
    assert not scans, scans
    assert [c["id"] for c in account.contacts.values()][-2:] == [21, 22]
    state.close()
