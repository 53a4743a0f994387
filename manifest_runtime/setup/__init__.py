"""`manifest-runtime setup`: walk a workflow's setup steps (connect → select → map →
schedule) as the App Studio UI would, with answers from a file or a terminal.

    model.py     the questions (FormField, MapRequest, ...), the Answerer protocol, errors
    options.py   options lists as commands produce them; answers matched against them
    mapping.py   the map step's answer checked and turned into the saved mapping
    answers.py   FileAnswerer: the answers file of a headless setup (and --save-answers)
    workflow.py  which workflow is set up
    flow.py      SetupFlow: the walk and what the steps share (asking, evaluating, failures)
    connect.py, select.py, map_step.py, schedule.py   one module per step
    search.py    a field's search_term sent with its options requests
    summary.py   the report printed once saved

The terminal answerer lives with the CLI (cli/setup_prompt.py): only the CLI prompts.
"""

from __future__ import annotations

from .answers import FileAnswerer
from .flow import SetupFlow, SetupOutcome
from .model import UNANSWERED, Answerer, AnswerError, SetupError
from .summary import summary_lines
from .workflow import choose_workflow

__all__ = ["UNANSWERED", "AnswerError", "Answerer", "FileAnswerer", "SetupError", "SetupFlow",
           "SetupOutcome", "choose_workflow", "summary_lines"]
