"""The schedule step of a polling workflow (reference §5.2): the import option and the
frequency (fixed by the step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import choices_hint
from .model import (
    UNANSWERED,
    ImportOption,
    ScheduleRequest,
    answer_error,
)
from .values import as_dict, as_str

if TYPE_CHECKING:
    from .flow import SetupFlow

SCHEDULE_KEYS = ("import_option", "frequency")


class ScheduleStep:
    """The import option and the frequency."""

    def __init__(self, flow: SetupFlow) -> None:
        self.flow = flow

    def schedule(self) -> dict[str, Any] | None:
        step = self.flow.schedule_step()
        if step is None:
            return None
        options = tuple(ImportOption(str(as_dict(o).get("type")),
                                     as_str(as_dict(o).get("label")) or str(as_dict(o).get("type")))
                        for o in step.get("import_options") or [] if isinstance(o, dict))
        frequency = step.get("frequency")
        request = ScheduleRequest(as_str(step.get("label")) or "Schedule",
                                  as_str(step.get("description")), options,
                                  frequency if isinstance(frequency, int) and
                                  not isinstance(frequency, bool) else None)
        self.flow.answerer.begin("schedule", request.label, request.description)
        chosen = self.flow.ask(lambda _r: self.resolve_schedule(request,
                                                            self.flow.answerer.schedule(request)))
        self.flow.answered["schedule"] = dict(chosen)
        return chosen

    def resolve_schedule(self, request: ScheduleRequest, raw: Any) -> dict[str, Any]:
        if raw is UNANSWERED or raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise answer_error(self.flow.answerer, "answers-shape", "schedule must be an object",
                               ("schedule",), hint="schedule: {import_option: recurring}")
        for key in raw:
            if key not in SCHEDULE_KEYS:
                raise answer_error(self.flow.answerer, "answers-unknown-key",
                                   f"unknown key {key!r} in schedule", ("schedule", key),
                                   hint=choices_hint(str(key), SCHEDULE_KEYS, "keys"))
        types = ", ".join(f"{o.type} ({o.label})" for o in request.import_options)
        given = raw.get("import_option")
        if given is None:
            if len(request.import_options) != 1:
                raise answer_error(self.flow.answerer, "schedule-import-option",
                                   "schedule.import_option is required: the schedule step "
                                   f"offers {types or 'no import option'}", ("schedule",))
            chosen = request.import_options[0]
        else:
            found = [o for o in request.import_options if given == o.type or
                     (isinstance(given, str) and given.lower() == o.label.lower())]
            if not found:
                raise answer_error(self.flow.answerer, "schedule-import-option",
                                   f"{given!r} is not an import option of the schedule step",
                                   ("schedule", "import_option"),
                                   hint=choices_hint(str(given),
                                                     [o.type for o in request.import_options],
                                                     "import options"))
            chosen = found[0]
        frequency = raw.get("frequency")
        if frequency is None:
            frequency = request.frequency
        elif not isinstance(frequency, int) or isinstance(frequency, bool) or frequency <= 0:
            raise answer_error(self.flow.answerer, "schedule-frequency",
                               f"schedule.frequency must be a number of seconds, not "
                               f"{frequency!r}", ("schedule", "frequency"))
        elif request.frequency is not None and frequency != request.frequency:
            raise answer_error(self.flow.answerer, "schedule-frequency",
                               f"the schedule step fixes frequency at {request.frequency} s, "
                               f"not {frequency}", ("schedule", "frequency"),
                               hint="leave frequency out to use the step's")
        return {"import_option": chosen.type, "frequency": frequency}
