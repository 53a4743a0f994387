"""The answers file of a headless setup (`setup --answers FILE`, DESIGN §5):

    workflow: <name>                       # optional with --workflow or a single workflow
    credentials: {token: ..., ...}         # credentials-file fields; optional
    custom_data: {<field id>: <value> | [<values>]}
    mapping: {<source option id>: <target option id>}
    schedule: {import_option: recurring, frequency: 1800}

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
    AnswerError,
    Choice,
    CredentialsRequest,
    FormField,
    MapRequest,
    ScheduleRequest,
    WorkflowChoice,
)

KEYS = ("workflow", "credentials", "custom_data", "mapping", "schedule")


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
        for key in ("credentials", "custom_data", "mapping", "schedule"):
            value = loaded.data.get(key)
            if value is not None and not isinstance(value, dict):
                raise AnswerError(answerer.locate(Diagnostic(
                    "answers-shape", f"{key} must be an object", (key,),
                    hint={"credentials": "credentials: {token: ...} (credentials-file fields)",
                          "custom_data": "custom_data: {<field id>: <value> or [<values>]}",
                          "mapping": "mapping: {<source option id>: <target option id>}",
                          "schedule": "schedule: {import_option: recurring, frequency: 1800}"
                          }[key])))
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

    def field(self, field: FormField, choices: Sequence[Choice] | None) -> Any:
        return self._section("custom_data").get(field.id, UNANSWERED)

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
