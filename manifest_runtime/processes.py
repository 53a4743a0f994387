"""Processes of this machine, as the writers' marks (state.py's workflow owners) and the
webhook receivers (intake/journal.py) name them: is one still running, and is it the same
process that took the mark (a pid can be given to another process later)?"""

from __future__ import annotations

import os


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (Linux); None: no such file."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rpartition(")")[2].split()
    except OSError:
        return None


def process_started(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (Linux /proc); None elsewhere."""
    fields = _stat(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def process_alive(pid: int, started: str | None = None) -> bool:
    """Does process `pid` of this machine run (not a zombie; with `started`, the same
    process, not another one given the pid since)?"""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        pass
    fields = _stat(pid)
    if fields is None:
        return True  # no /proc: the signal said it runs
    if fields[0] in ("Z", "X"):  # exited, not reaped yet
        return False
    return not (started and len(fields) > 19 and fields[19] != started)
