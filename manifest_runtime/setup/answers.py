"""The answers file of a headless setup (`setup --answers FILE`, DESIGN §5):

    workflow: <name>                       # optional with --workflow or a single workflow
    credentials: {token: ..., ...}         # credentials-file fields; optional
    custom_data: {<field id>: <value> | [<values>]}
    mapping: {<source option id>: <target option id>}
    schedule: {import_option: recurring, frequency: 1800}
    search: {<field id>: <search text>}     # fields with a search_term: the options are
                                           # fetched with it, the answer picked among them
                                           # (a multiselect may list several texts)

JSON or YAML (safe loader, duplicate keys refused). Every wrong answer is reported with the
file, line and column of the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..errors import Diagnostic, ManifestLoadError, UsageError, choices_hint
from ..paths import Path
from ..source import SourceMap, load_file
from .model import (
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

KEYS = ("workflow", "credentials", "custom_data", "mapping", "schedule", "search")
SECTION_HINTS = {
    "credentials": "credentials: {token: ...} (credentials-file fields)",
    "custom_data": "custom_data: {<field id>: <value> or [<values>]}",
    "mapping": "mapping: {<source option id>: <target option id>}",
    "schedule": "schedule: {import_option: recurring, frequency: 1800}",
    "search": "search: {<field id>: <search text>}",
}


class FileAnswerer:
    """Answers from a loaded answers document; never asks twice."""

    interactive = False

    def __init__(self, data: dict[str, Any], source: SourceMap | None = None) -> None:
        self.data = data
        self.source = source
        self.file = source.file if source is not None else None

    @classmethod
    def load(cls, path: str) -> FileAnswerer:
        """Read an answers file. Unreadable (no such file, a directory, no permission, too
        large): UsageError (exit 2). Malformed (a JSON or YAML syntax error, not UTF-8, empty)
        or of the wrong shape (not an object, unknown or duplicate keys): AnswerError located
        at the file's line and column (exit 1), like any wrong answer."""
        try:
            loaded = load_file(path)
        except ManifestLoadError as exc:
            d = exc.diagnostic
            if d.code in ("load", "too-large") and d.line is None:
                raise UsageError(f"--answers: {d.message.replace('manifest', 'answers file')}"
                                 ) from None
            if d.code == "empty":
                d = replace(d, message="the answers file is empty",
                            hint="write at least {} (or give the answers: workflow, "
                            "credentials, custom_data, mapping, schedule)")
            elif d.hint and "manifest" in d.hint:
                d = replace(d, hint=None)
            raise AnswerError(d) from None
        answerer = cls(loaded.data if isinstance(loaded.data, dict) else {}, loaded.source)
        for d in loaded.diagnostics:  # duplicate keys
            raise AnswerError(d)
        if not isinstance(loaded.data, dict):
            raise AnswerError(answerer.locate(Diagnostic(
                "answers-shape", "the answers file must hold an object",
                hint=f"keys: {', '.join(KEYS)}")))
        for key in loaded.data:
            if key not in KEYS:
                raise AnswerError(answerer.locate(Diagnostic(
                    "answers-unknown-key", f"unknown key {key!r} in the answers file", (key,),
                    hint=choices_hint(key, KEYS, "keys"))))
        for key, hint in SECTION_HINTS.items():
            value = loaded.data.get(key)
            if value is not None and not isinstance(value, dict):
                raise AnswerError(answerer.locate(Diagnostic(
                    "answers-shape", f"{key} must be an object", (key,), hint=hint)))
        for field_id, text in answerer._section("search").items():
            texts = text if isinstance(text, list) else [text]
            if not texts or not all(isinstance(t, str | int | float) and
                                    not isinstance(t, bool) for t in texts):
                raise AnswerError(answerer.locate(Diagnostic(
                    "answers-shape", f"search.{field_id} must be a text (or, for a "
                    "multiselect, a list of texts)", ("search", field_id),
                    hint=SECTION_HINTS["search"])))
        return answerer

    # -- Answerer ------------------------------------------------------------------------------

    def _section(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        return value if isinstance(value, dict) else {}

    def workflow(self, choices: Sequence[WorkflowChoice]) -> Any:
        return self.data.get("workflow", UNANSWERED)

    def begin(self, step: str, label: str | None, text: str | None) -> None:
        pass

    def credentials(self, request: CredentialsRequest) -> Any:
        return self.data.get("credentials", UNANSWERED)

    def field(self, field: FormField, choices: Sequence[Choice] | None,
              search: Search | None = None) -> Any:
        value = self._section("custom_data").get(field.id, UNANSWERED)
        text = self._section("search").get(field.id)
        if search is not None and text is not None and value is not UNANSWERED:
            texts = text if isinstance(text, list) else [text]
            return Searched(tuple(str(t) for t in texts), value)
        return value

    def given(self, section: str) -> list[str]:
        return [str(k) for k in self._section(section)]

    def mapping(self, request: MapRequest) -> Any:
        return self.data.get("mapping", UNANSWERED)

    def schedule(self, request: ScheduleRequest) -> Any:
        return self.data.get("schedule", UNANSWERED)

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        if self.source is None or diagnostic.line is not None:
            return diagnostic
        path: Path = diagnostic.path
        key = bool(path) and diagnostic.code.endswith(("unknown-key", "unknown-field",
                                                       "unknown-source", "unknown-group",
                                                       "duplicate-source"))
        pos = self.source.locate(path, key=key)
        line, column = pos if pos else (None, None)
        return replace(diagnostic, file=self.source.file, line=line, column=column)

    def rejected(self, error: AnswerError) -> None:  # pragma: no cover - never interactive
        raise error

    def failed(self, diagnostic: Diagnostic, actions: Sequence[Action]
               ) -> str:  # pragma: no cover - never interactive
        return "quit"


SECRET_FIELDS = frozenset({"token", "password", "access_token", "refresh_token"})


def dump_answers(workflow: str, answered: dict[str, Any], *, secrets: bool = False,
                 complete: bool = True) -> str:
    """An answers file (YAML) holding what an interactive setup was answered, so it can be
    run again headless (`setup --save-answers FILE`). Secret credentials (token, password,
    access_token, refresh_token) are left out unless `secrets`; a comment says which.
    `complete` False (interrupted or failed): a comment says the answers stop early."""
    import yaml

    data: dict[str, Any] = {"workflow": workflow}
    omitted: list[str] = []
    for key in KEYS[1:]:
        value = answered.get(key)
        if key == "credentials" and isinstance(value, dict):
            omitted = [k for k in value if k in SECRET_FIELDS and not secrets]
            value = {k: v for k, v in value.items() if k not in omitted}
        if value:
            data[key] = value
    lines = ["# Answers saved by `manifest-runtime setup --save-answers`; run it headless with",
             "#   manifest-runtime setup MANIFEST --answers THIS_FILE"]
    if not complete:
        lines.append("# Setup did not finish: the answers stop where it stopped.")
    if omitted:
        lines.append(f"# Not saved (secret): credentials {', '.join(omitted)}; give them with "
                     "--credentials FILE or MANIFEST_RUNTIME_* (or --save-secrets).")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return "\n".join(lines) + "\n" + body


def write_answers(path: str, text: str, *, private: bool) -> None:
    """Write an answers file whole (a temporary file renamed over it); mode 0600 when it
    holds secrets. OSError is the caller's to report."""
    import os
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".answers-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
