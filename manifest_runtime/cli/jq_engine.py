"""`--jq-engine fast|libjq` for the commands that evaluate jq (run, poll, serve, eval)."""

from __future__ import annotations

import argparse

from .. import jqfast


def add_jq_engine_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jq-engine", choices=jqfast.ENGINES, default=None,
                   help="jq programs on the fast path (default; libjq for what it does not "
                   f"compile) or all on libjq, to compare (also ${jqfast.ENV_VAR})")


def apply_jq_engine(args: argparse.Namespace) -> None:
    """Before the manifest compiles: the engine the user chose, if any."""
    jqfast.choose_engine(getattr(args, "jq_engine", None))
