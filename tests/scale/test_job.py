"""What a run on workers ships (pipeline/distributed.py): paths made absolute, the manifest's
text with its digest, compiled once per worker process, from the shipped text when the
worker cannot read the driver's file; which states a remote scheduler accepts."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from manifest_runtime.errors import UsageError
from manifest_runtime.pipeline import distributed
from manifest_runtime.pipeline.batch import BatchOptions
from manifest_runtime.pipeline.distributed import ClusterOptions, check, compiled_for, job_for
from manifest_runtime.pipeline.opening import HttpOptions, PipelineOptions, Reporter

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "tests/pipeline/deliver.yaml"


def test_the_job_carries_absolute_paths_and_the_manifest_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_bytes(MANIFEST.read_bytes())
    options = PipelineOptions(manifest="m.yaml", state="s.db",
                              http=HttpOptions(credentials="c.yaml", replay="r.yaml"))
    job = job_for(options, "deliver", BatchOptions(limit=5, legacy={1: "delivered"}),
                  "in.jsonl", "deliver", Reporter(), None)
    assert job.options.manifest == str(tmp_path / "m.yaml")
    assert job.options.state == str(tmp_path / "s.db") and job.input == str(tmp_path / "in.jsonl")
    assert job.options.http.credentials == str(tmp_path / "c.yaml")
    assert job.options.http.replay == str(tmp_path / "r.yaml")
    assert job.batch.limit is None and not job.batch.legacy  # per part, not per job
    assert job.manifest_text == MANIFEST.read_bytes() and job.owner.endswith(f":{os.getpid()}")


def test_a_worker_without_the_file_compiles_the_shipped_text(tmp_path: Path) -> None:
    job = job_for(PipelineOptions(manifest=str(MANIFEST)), "deliver", BatchOptions(),
                  str(tmp_path / "in.jsonl"), "deliver", Reporter(), None)
    elsewhere = replace(job, options=replace(job.options, manifest="/nowhere/deliver.yaml"),
                        manifest_sha="0" * 64)  # another digest: not in the cache
    compiled = compiled_for(elsewhere)
    assert compiled.valid and compiled is compiled_for(elsewhere)  # once per process
    assert Path(compiled.file).read_bytes() == MANIFEST.read_bytes()
    assert Path(compiled.file).name == "deliver.yaml"
    distributed._COMPILED.pop(("0" * 64, None))


@pytest.mark.parametrize(("scheduler", "state", "refused"), [
    ("tcp://10.1.2.3:8786", "state.db", True),
    ("10.1.2.3:8786", "state.db", True),
    ("tcp://127.0.0.1:8786", "state.db", False),
    ("localhost:8786", "state.db", False),
    ("tcp://10.1.2.3:8786", "postgresql://u@db/state", False),
    (None, "state.db", False),
])
def test_which_state_a_scheduler_accepts(scheduler: str | None, state: str,
                                         refused: bool) -> None:
    cluster = ClusterOptions(workers=None if scheduler else 2, scheduler=scheduler)
    if refused:
        with pytest.raises(UsageError, match="give a PostgreSQL state"):
            check(cluster, state)
    else:
        check(cluster, state)


def test_progress_adds_up_the_parts_latest_counts() -> None:
    """Each part's worker reports its running counts; a retried part starts again from 0
    (its records delivered before come back as skipped); an ended part's summary is final
    (a late report of a dead attempt does not undo it)."""
    from manifest_runtime.pipeline.batch import Summary
    from manifest_runtime.pipeline.distributed import PartResult, Progress, _Tally

    seen: list[Progress] = []
    tally = _Tally(seen.append)
    tally.event((0.0, (0, (10, 9, 1, 0))))
    tally.event((0.0, (1, (5, 5, 0, 0))))
    assert seen[-1] == Progress(15, 14, 1, 0)
    tally.event((0.0, (1, (3, 0, 0, 3))))  # part 1 retried: its first 3 skipped
    assert seen[-1] == Progress(13, 9, 1, 3)
    tally.ended(PartResult(0, Summary(read=20, delivered_records=18, failed=1, unknown=1), ()))
    tally.event((0.0, (0, (12, 11, 1, 0))))  # late, from before the end: ignored
    assert seen[-1] == Progress(23, 18, 2, 3)
