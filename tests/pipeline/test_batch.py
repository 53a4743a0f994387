"""The batch engine as a library (pipeline/batch.py): typed options in, results in input
order and a summary out; a batch into the state file is one transaction, and a record whose
write had to be rolled back makes its batch run again record by record."""

from __future__ import annotations

import random
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from manifest_runtime.errors import Diagnostic
from manifest_runtime.pipeline.batch import BatchOptions, BatchRun, RecordResult
from manifest_runtime.pipeline.journal import DeadLetter, Journal
from manifest_runtime.pipeline.records import Record, read_jsonl
from manifest_runtime.pipeline.runner import Outcome
from manifest_runtime.state import StateFile


class Writer:
    """A pipeline stand-in: each record inserts its number into table `t` in a transaction
    of its own; a record {"bad": true} fails after its insert (so the insert is rolled
    back); {"sleep": s} takes that long."""

    name = "w"
    sends_http = False
    target_path = ("workflows", 0, "data_pipeline", "target")

    def __init__(self, state: StateFile) -> None:
        self.state = state
        self.env = SimpleNamespace(http=None)
        with state.db:
            state.db.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")

    def process(self, record: Record, http: Any = None) -> Outcome:
        time.sleep(record.value.get("sleep", 0))
        outcome = Outcome(record.number)
        try:
            with self.state.lock, self.state.db:
                self.state.db.execute("INSERT INTO t VALUES (?)", (record.number,))
                if record.value.get("bad"):
                    raise ValueError("bad record")
        except ValueError as exc:
            outcome.dead.append(self.dead_letter(record, "target",
                                                Diagnostic("runtime-error", str(exc))))
        else:
            outcome.delivered = 1
        return outcome

    def dead_letter(self, record: Record, stage: str, d: Diagnostic) -> DeadLetter:
        return DeadLetter(self.name, record.number, None, stage, d.code, d.message, "",
                          record.value)


def lines(values: list[dict[str, Any]]) -> list[str]:
    import json

    return [json.dumps(v) for v in values]


def test_results_come_in_input_order_and_the_counts_add_up(tmp_path: Path) -> None:
    rng = random.Random(3)
    values = [{"i": i, "sleep": rng.choice([0, 0.01, 0.02])} for i in range(30)]
    values[7]["bad"] = True
    with StateFile(str(tmp_path / "s.db")) as state:
        seen: list[RecordResult] = []
        summary = BatchRun(Writer(state), state, BatchOptions(concurrency=4),
                           on_result=seen.append).run(read_jsonl(lines(values), salt="w"))
        assert [r.line for r in seen] == list(range(1, 31))
        assert seen[7].as_json() == {"line": 8, "id": seen[7].key, "status": "failed",
                                     "code": "runtime-error", "reason": "bad record"}
        assert (summary.read, summary.delivered_records, summary.failed, summary.unknown,
                summary.skipped) == (30, 29, 1, 0, 0)
        again = BatchRun(Writer(state), state, BatchOptions(concurrency=4)
                         ).run(read_jsonl(lines(values), salt="w"))
        assert (again.read, again.skipped, again.delivered) == (30, 30, 0)


def test_a_spoiled_batch_runs_again_record_by_record(tmp_path: Path) -> None:
    values = [{"i": i} for i in range(10)]
    values[2]["bad"] = True
    with StateFile(str(tmp_path / "s.db")) as state:
        summary = BatchRun(Writer(state), state,
                           BatchOptions(batched=True, chunk=5)
                           ).run(read_jsonl(lines(values), salt="w"))
        assert (summary.read, summary.delivered, summary.failed) == (10, 9, 1)
        numbers = sorted(n for (n,) in state.db.execute("SELECT n FROM t"))
        assert numbers == [1, 2, 4, 5, 6, 7, 8, 9, 10]  # the bad one's insert is undone
        assert Journal(state.db, state.lock).counts("w") == {"delivered": 9, "failed": 1}
