"""The setup engine (setup/flow.py) walked from a web page: `SetupFlow.run()` runs in a thread
of its own with a `PageAnswerer`, which hands each question to the page and waits for the
page's answer. The browser never evaluates anything: it sends answers (and search texts);
every check, every options list and every saved value is the flow's, as for `setup`.

One message in, one event out: each message sent to the flow thread (an answer, a search
text, an action after a failure) is answered by exactly one event (the next question, the
same question with the refusal, a search's options, the failure to act on, or the end), so
a request handler sends and waits for one event.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Diagnostic
from ..setup.model import (
    UNANSWERED,
    Action,
    AnswerError,
    Choice,
    CredentialsRequest,
    FormField,
    MapRequest,
    ScheduleRequest,
    Search,
    Searched,
    WorkflowChoice,
)


class Cancelled(Exception):
    """The page left this setup (another one started, or the manifest changed)."""


@dataclass(frozen=True)
class Step:
    """The step being walked (`begin`): its name, label and help text."""

    name: str
    label: str | None
    text: str | None


@dataclass(frozen=True)
class Question:
    """What the page shows now. `kind`: credentials | field | mapping | schedule | failure;
    `request` is the flow's own question (CredentialsRequest, FormField, ...); `error` the
    refusal of the previous answer to it, if any."""

    kind: str
    step: Step | None
    request: Any
    choices: tuple[Choice, ...] | None = None
    searchable: bool = False
    search_text: str = ""
    error: Diagnostic | None = None
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Options:
    """The options of a searchable field for a search text (the reply to a search)."""

    field: FormField
    text: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Finished:
    """The flow ended: `outcome` (saved), `error` (the diagnostic that ended it), or
    `cancelled` (the page left it: a request still waiting gets this)."""

    outcome: Any = None
    error: Diagnostic | None = None
    cancelled: bool = False


Event = Question | Options | Finished


@dataclass
class Message:
    kind: str  # answer | search | action | cancel
    value: Any = None
    seq: int = 0  # numbered by the Conversation: the event that answers it carries it


class PageAnswerer:
    """The Answerer of a setup walked from the page (runs in the flow's thread)."""

    interactive = True

    def __init__(self, emit: Callable[[Event], None], take: Callable[[], Message]) -> None:
        self.emit = emit
        self.take = take
        self.step: Step | None = None
        self.redact: Callable[[str], str] = lambda text: text
        self._refusal: Diagnostic | None = None
        self._listed: dict[str, tuple[Choice, ...]] = {}  # search text -> options shown
        self.shown: dict[str, str] = {}  # field id -> what its last answer showed

    def _take(self) -> Message:
        message = self.take()
        if message.kind == "cancel":
            raise Cancelled
        return message

    def _ask(self, question: Question, search: Search | None = None) -> Any:
        if self._refusal is not None:
            from dataclasses import replace

            question = replace(question, error=self._refusal)
            self._refusal = None
        self.emit(question)
        while True:
            message = self._take()
            if message.kind == "search" and search is not None and \
                    isinstance(question.request, FormField):
                text = str(message.value or "")
                found = tuple(search(text))  # a failing options command: the flow's to handle
                self._listed[text] = found
                self.emit(Options(question.request, text, found))
                continue
            if message.kind in ("answer", "action"):
                return message.value
            # a message this question takes no part in: say so, keep asking
            self.emit(question)

    # -- Answerer ------------------------------------------------------------------------------

    def workflow(self, choices: Sequence[WorkflowChoice]) -> Any:  # chosen by the page
        return UNANSWERED

    def begin(self, step: str, label: str | None, text: str | None) -> None:
        self.step = Step(step, label, text)

    def credentials(self, request: CredentialsRequest) -> Any:
        raw = self._ask(Question("credentials", self.step, request))
        values = raw if isinstance(raw, dict) else {}
        return {k: v for k, v in values.items() if isinstance(v, str) and v.strip()}

    def field(self, field: FormField, choices: Sequence[Choice] | None,
              search: Search | None = None) -> Any:
        """The page answers a text field with `value`, a dropdown or multiselect with `pick`:
        the indexes of the options it showed (for the search text `search`, if any)."""
        listed = None if choices is None else tuple(choices)
        self._listed = {"": listed} if listed is not None else {}
        raw = self._ask(Question("field", self.step, field, listed,
                                 searchable=search is not None), search)
        answer = raw if isinstance(raw, dict) else {"value": raw}
        text = answer.get("search") if isinstance(answer.get("search"), str) else ""
        if listed is not None and "pick" in answer:
            shown = self._listed.get(text or "", listed) or ()
            picks = answer["pick"] if isinstance(answer["pick"], list) else [answer["pick"]]
            chosen = [shown[int(i)] for i in picks if str(i).isdigit() and int(i) < len(shown)]
            values = [c.value for c in chosen]
            self.shown[field.id] = ", ".join(c.display for c in chosen)
            value: Any = values if field.type == "multiselect" else \
                (values[0] if values else UNANSWERED)
        else:
            value = answer.get("value", UNANSWERED)
            self.shown[field.id] = str(value)
        if value is None or value == "" or value == []:
            value = UNANSWERED
        if search is not None and text and value is not UNANSWERED:
            return Searched((text,), value)
        return value

    def mapping(self, request: MapRequest) -> Any:
        raw = self._ask(Question("mapping", self.step, request))
        if not isinstance(raw, dict):
            return UNANSWERED
        return {k: v for k, v in raw.items() if v not in (None, "")}

    def schedule(self, request: ScheduleRequest) -> Any:
        raw = self._ask(Question("schedule", self.step, request))
        return raw if isinstance(raw, dict) else {}

    def given(self, section: str) -> Sequence[str]:
        return ()

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        return diagnostic

    def rejected(self, error: AnswerError) -> None:
        self._refusal = error.diagnostic  # shown with the question, asked again at once

    def failed(self, diagnostic: Diagnostic, actions: Sequence[Action]) -> str:
        raw = self._ask(Question("failure", self.step, diagnostic, actions=tuple(actions)))
        names = [a.name for a in actions]
        return raw if raw in names else "quit"


class Conversation:
    """The flow thread and the queues between it and the request handlers. Messages are
    numbered and each event carries the number of the message it answers, so a reply that
    comes after its request gave up waiting is dropped, never taken for the next one's."""

    def __init__(self) -> None:
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.outbox: queue.Queue[tuple[int, Event]] = queue.Queue()
        self.lock = threading.Lock()
        self.last: Event | None = None
        self.thread: threading.Thread | None = None
        self._sent = 0  # the number of the last message sent (0: the start)
        self._answering = 0  # the flow thread's: the message it is answering

    # the flow thread's side
    def take(self) -> Message:
        message = self.inbox.get()
        self._answering = message.seq
        return message

    def emit(self, event: Event) -> None:
        self.outbox.put((self._answering, event))

    # the request handlers' side
    def start(self, target: Callable[[], None], timeout: float) -> Event:
        with self.lock:
            self.thread = threading.Thread(target=target, name="studio-setup", daemon=True)
            self.thread.start()
            return self._reply(timeout)

    def send(self, message: Message, timeout: float) -> Event:
        """Send one message to the flow; its one reply (the last event when it has ended)."""
        with self.lock:
            if self.finished:
                assert self.last is not None
                return self.last
            self._sent += 1
            message.seq = self._sent
            self.inbox.put(message)
            return self._reply(timeout)

    def _reply(self, timeout: float) -> Event:
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                seq, event = self.outbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError("the setup step did not answer in time (a slow API?): "
                                   "try again, or start the setup again") from None
            if seq == self._sent or isinstance(event, Finished):
                break  # (an older reply is late: dropped)
        if not isinstance(event, Options):
            self.last = event
        return event

    @property
    def finished(self) -> bool:
        return isinstance(self.last, Finished)

    def cancel(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.inbox.put(Message("cancel", seq=-1))
            self.thread.join(timeout=5)
