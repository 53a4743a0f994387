"""Saving what setup chose: the Setup in the state file; for a workflow with a
historical_data_intake, its one-time import is forgotten so that it runs once more
(reference §4.3). Shared by `setup` and the studio page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..state import StateFile
    from .flow import SetupOutcome


def save_outcome(state: StateFile, workflow: dict[str, Any], outcome: SetupOutcome
                 ) -> str | None:
    """Save the setup; the historical intake's name when its import will run again."""
    state.save_setup(outcome.setup)
    historical = workflow.get("historical_data_intake")
    if not isinstance(historical, str):
        return None
    from ..pipeline.polling import HistoricalImports

    HistoricalImports(state.db, state.lock).forget(outcome.setup.workflow)
    state.forget_polling_state(outcome.setup.workflow)
    return historical
