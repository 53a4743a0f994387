"""Process-level behaviour of the command line: exit codes when the reader goes away."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_closed_output_pipe_is_never_success() -> None:
    """`validate ... | head -1` on invalid manifests must not exit 0 (it used to)."""
    invalid = sorted(str(p) for p in (ROOT / "tests/validate/invalid").glob("*.yaml")) * 8
    # (well over a 64 KiB pipe buffer, so the writer surely meets the closed pipe)
    proc = subprocess.Popen([sys.executable, "-m", "manifest_runtime", "validate", *invalid],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `head -1`
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err
