"""One setup walked from the page: the flow thread (setup/flow.py with a PageAnswerer), the
state file it saves into, and the answers it can export (the same answers file as
`setup --save-answers`)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, ManifestRuntimeError
from .bridge import Cancelled, Conversation, Event, Finished, Message, PageAnswerer

if TYPE_CHECKING:
    from ..http.client import HttpClient
    from ..http.credentials import Credentials
    from ..model import CompiledManifest
    from ..runtime.context import Env
    from ..setup import SetupFlow
    from .services import Services
    from .trace import TraceLog

TIMEOUT = 120.0  # seconds a request waits for the flow's next question


class SetupSession:
    def __init__(self, compiled: CompiledManifest, index: int, services: Services,
                 log: TraceLog) -> None:
        from ..http.redact import Redactor
        from ..setup import SetupFlow

        self.compiled = compiled
        self.index = index
        self.services = services
        self.log = log
        self.conversation = Conversation()
        self.answerer = PageAnswerer(self.conversation.emit, self.conversation.take)
        self.workflow: dict[str, Any] = compiled.data["workflows"][index]
        auth = self.workflow.get("auth")
        self.auth_name = auth if isinstance(auth, str) else None
        self.redactor = Redactor()
        base = services.base_credentials(self.auth_name)
        self._secrets(base)
        self.answerer.redact = self.redactor.text
        self.state = services.open_state()
        self.flow: SetupFlow = SetupFlow(
            compiled, index, self.answerer, base_credentials=base, open_http=self._open_http,
            make_env=self._make_env, replaying=services.replaying, warn=self._warn,
            redact=self.redactor.text)

    @property
    def name(self) -> str:
        return self.flow.name

    def _secrets(self, credentials: Credentials) -> None:
        self.redactor.add(*credentials.secret_values())
        self.redactor.add_basic(credentials.username, credentials.password)

    def _open_http(self, credentials: Credentials) -> HttpClient:
        self._secrets(credentials)  # typed on the page: masked from now on
        return self.services.open_http(self.compiled, self.auth_name, credentials,
                                       self.redactor, self.log.attempt)

    def _make_env(self, http: HttpClient) -> Env:
        env = self.services.make_env(self.compiled, self.state, http)
        return replace(env, trace=partial(self.log.command, redact=env.redact_value),
                       log=lambda message: self.log.warning(
                           self.redactor.text(f"print_c: {message}")))

    def _warn(self, message: str) -> None:
        self.log.warning(self.redactor.text(message))

    def _walk(self) -> None:
        from ..runtime.errors import with_location
        from ..setup.saving import save_outcome

        try:
            outcome = self.flow.run()
            save_outcome(self.state, self.workflow, outcome)
            self.conversation.emit(Finished(outcome=outcome))
        except Cancelled:
            self.conversation.emit(Finished(cancelled=True))
        except ManifestRuntimeError as exc:
            d = exc.diagnostic
            if d.file is None and d.path and d.code != "no-such-node":
                d = with_location(d, self.compiled.source)
            d = replace(d, message=self.redactor.text(d.message),
                        hint=self.redactor.text(d.hint) if d.hint else None)
            self.conversation.emit(Finished(error=d))
        except Exception as exc:  # never leave the page waiting
            message = f"setup stopped: {type(exc).__name__}: {exc}"
            self.conversation.emit(Finished(error=Diagnostic(
                "runtime-error", self.redactor.text(message),
                hint="an unexpected failure: please report it")))
        finally:
            self.flow.close()
            self.state.close()

    # -- the page's side -----------------------------------------------------------------------

    def start(self) -> Event:
        self.log.action = f"setup {self.name}: connect"
        return self.conversation.start(self._walk, TIMEOUT)

    def send(self, kind: str, value: Any, action: str) -> Event:
        self.log.action = f"setup {self.name}: {action}"
        return self.conversation.send(Message(kind, value), TIMEOUT)

    @property
    def last(self) -> Event | None:
        return self.conversation.last

    def cancel(self) -> None:
        self.conversation.cancel()

    def answers_file(self) -> str:
        """What was answered so far as an answers file (secrets left out)."""
        from ..setup.answers import dump_answers

        text = dump_answers(self.name, self.flow.answered, secrets=False,
                            complete=self.conversation.finished
                            and isinstance(self.last, Finished) and self.last.error is None)
        return text.replace("`manifest-runtime setup --save-answers`",
                            "`manifest-runtime studio` (Export answers)")
