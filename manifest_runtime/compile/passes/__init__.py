"""Post-compile passes: analyses over the compiled commands of a manifest.

The walk calls `after_batch` after each workflow and data_intake (and once at the end): the
passes read the commands built since the last batch (`Compiler.built`, in completion order:
inner commands before the command holding them), record what they find, and the batch is
forgotten, so the compiler holds at most one workflow's commands. A `!pipe` never spans two
batches, so each pass sees whole pipes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .http_output import decide_http_outputs, note_http_outputs

if TYPE_CHECKING:
    from ..compiler import Compiler


def after_batch(c: Compiler) -> None:
    batch, c.built = c.built, []
    decisions = decide_http_outputs(batch, c)
    if c.keep:
        c.http_outputs.update(decisions)  # the table the compiled HttpNodes read
    for command in batch:
        if command.name == "!http" and command.node is not None and command.node.pagination:
            c.paginated.append(command.path)
    if c.notes:
        note_http_outputs(batch, decisions, c)


__all__ = ["after_batch"]
