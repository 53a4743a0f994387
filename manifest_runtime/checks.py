"""Moved to `manifest_runtime.compile.checks`; this name is kept so that imports written
before the move still work. Import from the new place."""

from .compile.checks import CHECKS, dig, run_checks

__all__ = ["CHECKS", "dig", "run_checks"]
