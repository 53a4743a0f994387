"""The Compiler: turns raw manifest values into frozen nodes and collects every problem.

It never stops at the first error: each problem becomes a located Diagnostic and compilation
continues, so `validate` reports everything at once. The `Scope` a value is compiled in and
the rule of each `${root}` are in roots.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import (
    Diagnostic,
    Severity,
    Span,
    choices_hint,
    describe,
    misspelt_required,
    misspelt_required_hint,
)
from ..expressions.nodes import Expansion, Template
from ..expressions.parser import TemplateSyntaxError, parse_template
from ..model import Arr, Command, Const, HttpDecision, Node, Obj, Tmpl
from ..paths import Path
from ..source import SourceMap
from .roots import ROOT_CHECKS, FieldInfo, Scope

if TYPE_CHECKING:
    from ..commands.base import CommandSpec

COMMENT = "_comment"


@dataclass
class Compiler:
    """Compiles values and commands, collecting diagnostics (mutable only while compiling)."""

    commands: Mapping[str, CommandSpec]
    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # per open !pipe (innermost last): step number -> (root fields read, who reads them)
    pipe_reads: list[dict[int, list[tuple[str, str]]]] = field(default_factory=list)
    # per open !pipe (innermost last): the 1-based step being compiled
    pipe_steps: list[int] = field(default_factory=list)
    # the commands compiled since the last batch, in completion order (inner before outer):
    # what the post-compile passes read (passes/__init__.py)
    built: list[Command] = field(default_factory=list)
    # !http output shape by command path, decided by passes/http_output.py; HttpNodes read it
    http_outputs: dict[Path, HttpDecision] = field(default_factory=dict)
    paginated: list[Path] = field(default_factory=list)  # the !http with pagination: true
    notes: bool = True  # report notes (severity info)
    keep: bool = True  # keep the compiled nodes (False: `validate` wants diagnostics only)

    def end_batch(self) -> None:
        """Run the post-compile passes over the commands built since the last batch."""
        from .passes import after_batch

        after_batch(self)

    # ------------------------------------------------------------------ reporting

    def report(
        self,
        code: str,
        message: str,
        path: Path,
        *,
        hint: str | None = None,
        severity: Severity = "error",
        span: Span | None = None,
        text: str | None = None,
        at_key: bool = False,
    ) -> None:
        place = self.source.place(path, key=at_key,
                                  span=(span.start, span.end) if span is not None else None)
        self.diagnostics.append(
            Diagnostic(code=code, message=message, path=path, severity=severity, hint=hint,
                       span=span, source_text=text).with_place(self.source.file, place))

    # ------------------------------------------------------------------ values

    def value(self, raw: Any, path: Path, scope: Scope) -> Node:
        """Compile any manifest value: commands, templates, containers, constants.

        One pass over the raw data, each value visited once; a container whose children all
        compile to themselves (constants) is one Const of the raw value, not a copy."""
        if isinstance(raw, str):
            return self.string(raw, path, scope) if "${" in raw else Const(raw, path)
        if isinstance(raw, list):
            items = [self.value(v, (*path, i), scope) for i, v in enumerate(raw)]
            same = True
            for n, v in zip(items, raw, strict=True):
                if not isinstance(n, Const):
                    return Arr(tuple(items), path)
                same = same and n.value is v
            return Const(raw if same else [n.value for n in items], path)  # type: ignore[union-attr]
        if isinstance(raw, dict):
            for k in raw:
                if k[:1] == "!":
                    return self.command(raw, path, scope)
            obj = {k: self.value(v, (*path, k), scope) for k, v in raw.items() if k != COMMENT}
            same = len(obj) == len(raw)
            for k, n in obj.items():
                if not isinstance(n, Const):
                    return Obj(obj, path)
                same = same and n.value is raw[k]
            return Const(raw if same else {k: n.value for k, n in obj.items()},  # type: ignore[union-attr]
                         path)
        return Const(raw, path)

    def string(self, text: str, path: Path, scope: Scope) -> Node:
        template = self.template(text, path, scope)
        if template is None or not template.expansions:
            literal = "".join(p for p in template.parts if isinstance(p, str)) if template else text
            return Const(literal, path)
        return Tmpl(template, path)

    def template(self, text: str, path: Path, scope: Scope) -> Template | None:
        """Parse a string's expansions and check each against the scope."""
        try:
            template = parse_template(text)
        except TemplateSyntaxError as exc:
            self.report(exc.code, exc.message, path, hint=exc.hint, span=exc.span, text=text)
            return None
        for exp in template.expansions:
            self.check_expansion(exp, path, scope, text)
        return template

    # ------------------------------------------------------------------ commands

    def is_command(self, raw: Any) -> bool:
        return isinstance(raw, dict) and any(k.startswith("!") for k in raw)

    def command(self, raw: dict[str, Any], path: Path, scope: Scope) -> Node:
        bang = [k for k in raw if k.startswith("!")]
        extra = [k for k in raw if not k.startswith("!") and k != COMMENT]
        if len(bang) > 1:
            self.report(
                "command-shape",
                f"one object holds {len(bang)} commands ({', '.join(bang)})",
                path,
                hint="a command object has exactly one '!' key; chain commands with !pipe",
            )
            return Const(None, path)
        name = bang[0]
        if extra:
            self.report(
                "command-shape",
                f"command {name} has extra key(s) beside it: {', '.join(extra)}",
                (*path, extra[0]),
                hint=f"put arguments inside the {name} value; only _comment may stand beside "
                "a command",
                at_key=True,
            )
        spec = self.commands.get(name)
        if spec is None:
            self.report(
                "unknown-command",
                f"unknown command {name!r}",
                (*path, name),
                hint=choices_hint(name, self.commands, "commands"),
                at_key=True,
            )
            return Const(None, path)
        arg_path = (*path, name)
        node = spec.compile(raw[name], arg_path, self, scope)
        command = Command(name, node, path, spec.run)
        self.built.append(command)
        return command

    def step(self, raw: Any, path: Path, scope: Scope, what: str) -> Command | None:
        """Compile a value that must be a command (a pipe step, a switch case, ...)."""
        if not self.is_command(raw):
            self.report(
                "not-a-command",
                f"{what} must be a command, got {describe(raw)}",
                path,
                hint=not_a_command_hint(raw, self.commands),
            )
            return None
        node = self.command(raw, path, scope)
        return node if isinstance(node, Command) else None

    def object_arg(
        self,
        raw: Any,
        path: Path,
        command: str,
        allowed: Mapping[str, bool],
    ) -> dict[str, Any] | None:
        """Check an object argument: known keys only, required ones present (a misspelt
        required key is reported once, as the unknown key)."""
        if not isinstance(raw, dict):
            self.report(
                "invalid-argument",
                f"{command} takes an object, got {describe(raw)}",
                path,
                hint=f"{command} keys: {', '.join(allowed)}",
            )
            return None
        unknown = [key for key in raw if key != COMMENT and key not in allowed]
        missing = [key for key, required in allowed.items() if required and key not in raw]
        misspelt = misspelt_required(unknown, missing) if unknown and missing else {}
        for key in unknown:
            self.report(
                "invalid-argument",
                f"{command} has no argument {key!r}",
                (*path, key),
                hint=misspelt_required_hint(misspelt[key]) if key in misspelt
                else choices_hint(key, allowed, f"{command} takes"),
                at_key=True,
            )
        for key in missing:
            if key not in misspelt.values():
                self.report("invalid-argument", f"{command} needs {key!r}", path,
                            hint=f"add \"{key}\" to the {command} object")
        return {k: v for k, v in raw.items() if k != COMMENT}

    # ------------------------------------------------------------------ expansions

    def check_expansion(self, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
        if scope.roots is not None and exp.root not in scope.roots:
            allowed = ", ".join(f"${{{r}}}" for r in sorted(scope.roots))
            self.bad_ref(exp, path, text, "root-not-available",
                         f"${{{exp.root}}} is not available in {scope.where}"
                         + (f" (only {allowed} is)" if len(scope.roots) == 1 else ""),
                         scope.roots_hint or f"available here: {allowed or 'nothing'}")
            return
        check = ROOT_CHECKS.get(exp.root)
        if check is not None:
            check(self, exp, path, scope, text)

    def bad_ref(
        self, exp: Expansion, path: Path, text: str, code: str, message: str, hint: str,
        severity: Severity = "error",
    ) -> None:
        self.report(code, message, path, hint=hint, span=exp.span, text=text, severity=severity)


def not_a_command_hint(raw: Any, commands: Iterable[str]) -> str:
    """The hint for a value where a command belongs: `did you mean '!http'?` when a key of a
    plain object is a command name without its `!`."""
    if isinstance(raw, dict):
        import difflib  # here, not at import (start-up)

        names = list(commands)
        for key in raw:
            if not isinstance(key, str) or key == COMMENT or key.startswith("!"):
                continue
            close = difflib.get_close_matches("!" + key.lower(), names, n=1, cutoff=0.8)
            if close:
                name = close[0]
                return (f"did you mean {name!r}? a command's key starts with '!': "
                        f"{{\"{name}\": ...}} (YAML: {name} ...)")
        if any(k != COMMENT for k in raw):
            return ("a command is an object with one key starting with '!'; to output a fixed "
                    "value, write it as a jq literal: {\"!jq\": \"{...}\"} (YAML: !jq '{...}')")
    return 'write it as {"!jq": "..."}, {"!http": {...}}, ... (YAML: !jq "...")'


__all__ = ["COMMENT", "Compiler", "FieldInfo", "Scope", "describe",
           "not_a_command_hint"]
