"""The map step's answer: `{source option: target option}` checked against both options lists.

Answers name an option by its id, or `group.id` when it has a group. For a grouped target:

    mapping:
      first_name: contact.firstName      # group.id
      email: email                       # a bare id, when only one group has it
      deal:                              # {group: {source: target id in that group}}
        amount: value

An ungrouped option whose id is the text given wins over a grouped `group.id` of the same
spelling (the nested form names the grouped one). A null target leaves the source unmapped.
Required targets (reference §5.2 map): every ungrouped option with `required: true`; a grouped
one once anything is mapped into its group; for an inbound workflow, the ActiveCampaign Email
option (id `email`, ungrouped or in group `contact`) always.

Saved form (what the pipeline's transform reads, `saved_mapping`): each pair's source and
target id with their groups apart, `{"$pairs": [{"source", "target", "source_group"?,
"target_group"?}]}` (pipeline/transform.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..paths import Path
from ..pipeline.transform import Key
from ..pipeline.transform import saved_mapping as transform_mapping
from .model import UNANSWERED, Answerer, MapOption, MapRequest, answer_error
from .options import scalar, unknown_key_hint


@dataclass(frozen=True)
class Mapped:
    """One saved pair, with the options it names (None when that side is not described).
    `source_key` / `target_key` name the sides in messages (`group.id` for a grouped one);
    `source_saved` / `target_saved` are what is saved; `path` is where the answer is."""

    source_key: str
    target_key: str
    source: MapOption | None
    target: MapOption | None
    source_saved: Key
    target_saved: Key
    path: Path


def saved_mapping(pairs: Sequence[Mapped]) -> dict[str, Any]:
    """`Setup.mapping` for the answered pairs (the explicit form, pipeline/transform.py)."""
    return transform_mapping((p.source_saved, p.target_saved) for p in pairs)


def email_option(targets: Sequence[MapOption]) -> MapOption | None:
    """The ActiveCampaign Email field among target options (an inbound mapping needs it)."""
    return next((t for t in targets if t.id == "email" and t.group in (None, "contact")), None)


def always_required(targets: Sequence[MapOption] | None, inbound: bool) -> tuple[MapOption, ...]:
    """Targets that must be mapped whatever else is (grouped ones may be added later)."""
    if targets is None:
        return ()
    out = [t for t in targets if t.required and t.group is None]
    email = email_option(targets) if inbound else None
    if email is not None and email not in out:
        out.insert(0, email)
    return tuple(out)


def resolve_mapping(answerer: Answerer, request: MapRequest, raw: Any) -> list[Mapped]:
    """The answered mapping as saved pairs, or an AnswerError located at the bad answer."""
    if raw is UNANSWERED or raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise answer_error(answerer, "answers-shape", "mapping must be an object", ("mapping",),
                           hint="mapping: {<source option id>: <target option id>}")
    pairs: list[Mapped] = []
    for key, value in raw.items():
        path: Path = ("mapping", key)
        if isinstance(value, dict):
            group = _group(answerer, request, str(key), path)
            for source_key, target in value.items():
                if target is not None:
                    pairs.append(_pair(answerer, request, source_key, target,
                                       (*path, source_key), group))
        elif value is not None:
            pairs.append(_pair(answerer, request, key, value, path, None))
    _check_unique(answerer, pairs)
    _check_required(answerer, request, pairs)
    return pairs


def _group(answerer: Answerer, request: MapRequest, group: str, path: Path) -> str:
    groups = sorted({t.group for t in request.targets or () if t.group})
    if request.targets is not None and group not in groups:
        why = "the target options have no groups" if not groups else \
            f"groups: {', '.join(groups)}"
        raise answer_error(answerer, "mapping-unknown-group",
                           f"{group!r} is not a group of the target options, so its value "
                           "cannot be an object", path,
                           hint=f"write {{<source id>: <target id>}} pairs ({why})")
    return group


def _pair(answerer: Answerer, request: MapRequest, source_key: Any, target: Any, path: Path,
          group: str | None) -> Mapped:
    source = _find(answerer, request.sources, source_key, path, "source", None)
    if not scalar(target) or isinstance(target, bool):
        raise answer_error(answerer, "mapping-target",
                           f"the target of {source_key!r} must be a target option id, not a "
                           f"{type(target).__name__}", path,
                           hint="write <source id>: <target id>; null leaves it unmapped")
    option = _find(answerer, request.targets, target, path, "target", group)
    source_saved = source.saved if source is not None else Key(str(source_key))
    target_saved = option.saved if option is not None else Key(str(target), group)
    source_text = source.key if source is not None else str(source_key)
    target_text = option.key if option is not None else \
        (f"{group}.{target}" if group else str(target))
    return Mapped(source_text, target_text, source, option, source_saved, target_saved, path)


def _find(answerer: Answerer, options: Sequence[MapOption] | None, given: Any, path: Path,
          side: str, group: str | None) -> MapOption | None:
    """The option an answer names: its key (`group.id`), or its id when that is unique."""
    if options is None:
        return None
    text = str(given)
    if group is None:
        pool = list(options)
        matches = [o for o in pool if o.group is None and o.id == text] or \
            [o for o in pool if o.group is not None and o.key == text] or \
            [o for o in pool if o.id == text]
    else:
        pool = [o for o in options if o.group == group]
        matches = [o for o in pool if o.id == text]
        if not matches and text.startswith(f"{group}."):
            text = text[len(group) + 1:]
            matches = [o for o in pool if o.id == text]
    if len(matches) == 1:
        return matches[0]
    code = f"mapping-unknown-{side}"
    described = "describe_source" if side == "source" else "describe_target"
    if len(matches) > 1:
        raise answer_error(answerer, code,
                           f"{side} option {text!r} is in several groups: "
                           f"{', '.join(o.key for o in matches)}", path,
                           hint="write it as group.id")
    where = f" in group {group!r}" if group is not None else ""
    raise answer_error(answerer, code,
                       f"{text!r} is not a {side} option{where} of the map step "
                       f"({described})", path,
                       hint=unknown_key_hint(text, pool))


def _check_unique(answerer: Answerer, pairs: list[Mapped]) -> None:
    """One target per source and one source per target; the error is located at the second
    answer naming the same option."""
    sources: dict[Key, Mapped] = {}
    targets: dict[Key, Mapped] = {}
    for pair in pairs:
        if pair.source_saved in sources:
            raise answer_error(answerer, "mapping-duplicate-source",
                               f"source {pair.source_key!r} is mapped twice (to "
                               f"{sources[pair.source_saved].target_key!r} and "
                               f"{pair.target_key!r})", pair.path,
                               hint="a source field maps to one target field")
        if pair.target_saved in targets:
            raise answer_error(answerer, "mapping-duplicate-target",
                               f"target {pair.target_key!r} is mapped from both "
                               f"{targets[pair.target_saved].source_key!r} and "
                               f"{pair.source_key!r}", pair.path,
                               hint="each target field takes one source field")
        sources[pair.source_saved] = pair
        targets[pair.target_saved] = pair


def _check_required(answerer: Answerer, request: MapRequest, pairs: list[Mapped]) -> None:
    if request.targets is None:
        return
    used = {p.target_saved for p in pairs}
    groups = {p.target.group for p in pairs if p.target is not None and p.target.group}
    needed = list(request.required)
    needed += [t for t in request.targets if t.required and t.group in groups and t not in needed]
    missing = [t for t in needed if t.saved not in used]
    if missing:
        names = ", ".join(t.describe() for t in missing)
        why = " (an inbound workflow always maps the ActiveCampaign Email)" \
            if request.inbound and any(t.id == "email" for t in missing) else ""
        example = _suggest(request, missing[0])
        raise answer_error(answerer, "mapping-required",
                           f"required target field{'s' if len(missing) > 1 else ''} not "
                           f"mapped: {names}{why}", ("mapping",),
                           hint=f"map a source field to it, e.g. {example}")
    if not pairs and not request.inbound and request.targets:
        source = request.sources[0].key if request.sources else "<source id>"
        raise answer_error(answerer, "mapping-empty", "the map step needs at least one mapped "
                           "field", ("mapping",),
                           hint=f"e.g. mapping: {{{source}: {request.targets[0].key}}}")


def _suggest(request: MapRequest, target: MapOption) -> str:
    """`mapping: {<source>: <target>}` with the source whose id or title is closest."""
    import difflib

    source = "<source id>"
    sources = request.sources or ()
    by_name = {o.id.lower(): o for o in sources} | {o.title.lower(): o for o in sources}
    close = difflib.get_close_matches(target.id.lower(), list(by_name), n=1, cutoff=0.5) or \
        difflib.get_close_matches(target.title.lower(), list(by_name), n=1, cutoff=0.5)
    if close:
        source = by_name[close[0]].key
    return f"mapping: {{{source}: {target.key}}}"
