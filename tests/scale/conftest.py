"""One Dask LocalCluster (2 worker processes) for the module that asks for it: a cluster
costs seconds to start. Tests reach it as a running cluster: `--scheduler ADDRESS`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "pipeline"))  # deliver_api, test_run_cli's seeds
sys.path.insert(0, str(HERE.parent))  # loopback


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with pytest.MonkeyPatch.context() as mp:  # what the workers inherit: the tests' cache
        mp.setenv("MANIFEST_RUNTIME_CACHE_DIR",
                  str(tmp_path_factory.getbasetemp() / "jq-verdicts"))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR,
                          host="127.0.0.1",
                          scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as local, \
                Client(local) as client:
            yield client
