"""What the setup steps ask about and the errors they raise.

The steps (flow.py) turn a manifest's `setup` into these questions; an `Answerer` answers
them (answers.py from a file, cli/setup_prompt.py on a terminal). Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import Diagnostic, ManifestRuntimeError
from ..paths import Path
from ..pipeline.transform import Key


class _Unanswered:
    """The answer to a question the answers file does not answer (distinct from null)."""

    _instance: _Unanswered | None = None

    def __new__(cls) -> _Unanswered:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNANSWERED"

    def __bool__(self) -> bool:
        return False


UNANSWERED: Any = _Unanswered()


class SetupError(ManifestRuntimeError):
    """Setup cannot go on: a manifest command produced something unusable, or the
    connection was refused (exit 1)."""


class AnswerError(SetupError):
    """An answer is not acceptable (unknown option, missing required field, ...). On a
    terminal the question is asked again; from a file it ends setup (exit 1)."""


@dataclass(frozen=True)
class WorkflowChoice:
    name: str
    label: str
    type: str


@dataclass(frozen=True)
class CredentialField:
    """One field the workflow's auth needs (token, username, password, subdomain, ...)."""

    name: str
    label: str
    secret: bool
    required: bool
    placeholder: str | None = None
    help_text: str | None = None
    given: bool = False  # already set by --credentials or the environment


@dataclass(frozen=True)
class CredentialsRequest:
    auth_name: str
    auth_type: str
    label: str  # the connect step's label
    help_text: str | None
    fields: tuple[CredentialField, ...]
    replaying: bool  # answered from a cassette: secrets are not needed
    retry: bool = False  # asked again after the credentials were refused


@dataclass(frozen=True)
class Choice:
    """One option of a dropdown/multiselect: `value` is stored, `display` shown."""

    value: Any
    display: str


@dataclass(frozen=True)
class FormField:
    id: str
    label: str
    type: str  # text | textarea | dropdown | multiselect
    required: bool
    index: int
    placeholder: str | None = None
    help_text: str | None = None
    # the field's `search_term`: the query parameter that carries the user's typed text to
    # the options command's !http requests (server-side search, reference §5.2)
    search_param: str | None = None

    @property
    def has_options(self) -> bool:
        return self.type in ("dropdown", "multiselect")

    @property
    def searchable(self) -> bool:
        return self.has_options and self.search_param is not None


Search = Callable[[str], Sequence[Choice]]  # search text -> the options fetched with it


@dataclass(frozen=True)
class Searched:
    """An answer picked among the options fetched with search texts (`search:` in an
    answers file, type-to-search on a terminal): the flow checks `value` against the options
    of every text ("" is the list fetched without one; a multiselect's picks may come from
    several searches)."""

    texts: tuple[str, ...]
    value: Any


@dataclass(frozen=True)
class Action:
    """What to do after a command failed on a terminal: `back` (re-ask `label`), `retry`,
    `skip` (an optional field) or `quit`."""

    name: str
    label: str


@dataclass(frozen=True)
class MapOption:
    """One map option. `key` names it in answers and messages: `id`, or `group.id` when the
    option belongs to a group; `saved` is what the saved mapping records (id and group apart,
    so an id with a dot is never taken for `group.id`; pipeline/transform.py)."""

    id: str
    title: str
    required: bool = False
    group: str | None = None

    @property
    def key(self) -> str:
        return f"{self.group}.{self.id}" if self.group else self.id

    @property
    def saved(self) -> Key:
        return Key(self.id, self.group)

    def describe(self) -> str:
        return f"{self.title} ({self.key})"


@dataclass(frozen=True)
class MapRequest:
    label: str
    source_label: str
    target_label: str
    sources: tuple[MapOption, ...] | None  # None: describe_source has no options
    targets: tuple[MapOption, ...] | None  # None: the map step has no describe_target
    required: tuple[MapOption, ...]  # targets that must be mapped whatever else is
    inbound: bool


@dataclass(frozen=True)
class ImportOption:
    type: str  # recurring | single
    label: str


@dataclass(frozen=True)
class ScheduleRequest:
    label: str
    description: str | None
    import_options: tuple[ImportOption, ...]
    frequency: int | None


class Answerer(Protocol):
    """Answers the setup questions. `interactive` answerers are asked again after an
    AnswerError; the others end setup with it. Each method returns the raw answer, or
    UNANSWERED; the steps check every answer, so a wrong one is reported the same way
    whoever gave it."""

    interactive: bool

    def workflow(self, choices: Sequence[WorkflowChoice]) -> Any: ...

    def begin(self, step: str, label: str | None, text: str | None) -> None: ...

    def credentials(self, request: CredentialsRequest) -> Any: ...

    def field(self, field: FormField, choices: Sequence[Choice] | None,
              search: Search | None = None) -> Any:
        """The answer to a form field; for a searchable field (`search` given) possibly a
        `Searched` (the text searched and the value picked among its results)."""
        ...

    def mapping(self, request: MapRequest) -> Any: ...

    def schedule(self, request: ScheduleRequest) -> Any: ...

    def given(self, section: str) -> Sequence[str]:
        """The keys answered in advance in a section of the answers (custom_data, mapping,
        schedule), to report answers the workflow has no question for; () when asking."""
        ...

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        """The diagnostic of a wrong answer, with where that answer is (file, line)."""
        ...

    def rejected(self, error: AnswerError) -> None:
        """An interactive answer was refused: show why before asking again."""
        ...

    def failed(self, diagnostic: Diagnostic, actions: Sequence[Action]) -> str:
        """A manifest command failed during an interactive setup: show it, and return the
        name of the action chosen among `actions`. Never called when not interactive."""
        ...


def answer_error(answerer: Answerer, code: str, message: str, path: Path = (),
                 hint: str | None = None) -> AnswerError:
    """An AnswerError about the answer at `path` of the answers document."""
    return AnswerError(answerer.locate(Diagnostic(code, message, path, hint=hint)))


def guess_target(source: MapOption, targets: Sequence[MapOption]) -> MapOption | None:
    """The target a source most likely maps to (same id, else same id or title ignoring case
    and punctuation): a preselection the user can change (terminal prompt and studio)."""
    def norm(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    for same in (lambda t: t.id == source.id, lambda t: norm(t.id) == norm(source.id),
                 lambda t: norm(t.title) == norm(source.title)):
        found = [t for t in targets if same(t)]
        if len(found) == 1:
            return found[0]
    return None
