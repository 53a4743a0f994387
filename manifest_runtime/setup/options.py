"""Options lists as the manifest's commands produce them, and answers matched against them.

Select options are `[{display, value}]`; map options `[{title, id, required, group}]`. The
sandbox's `ActiveCampaign*.fields` items carry both shapes, so either is read for either
step: `value` else `id`, `display` else `title` (else `name`, reference §11.1, else the value).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from ..pipeline.transform import Key
from ..runtime.errors import excerpt
from .model import Choice, MapOption

SHOWN = 12  # options listed in a message before "... and N more"


class OptionsShapeError(ValueError):
    """An options list that is not a list of option objects (message says what is wrong)."""


def scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else excerpt(value, 80) if not scalar(value) else str(value)


def select_choices(raw: Any) -> list[Choice]:
    """A select field's options output as Choices; OptionsShapeError when it is not a list of
    {display, value} objects (plain strings and numbers count as their own display)."""
    if not isinstance(raw, list):
        raise OptionsShapeError(f"produced {excerpt(raw, 120)}, not a list of "
                                "{display, value} objects")
    out: list[Choice] = []
    for i, item in enumerate(raw):
        if isinstance(item, dict) and ("value" in item or "id" in item):
            value = item["value"] if "value" in item else item["id"]
            display = next((item[k] for k in ("display", "title", "name") if k in item), value)
            out.append(Choice(value, _text(display)))
        elif scalar(item) and item is not None:
            out.append(Choice(item, _text(item)))
        else:
            raise OptionsShapeError(f"item {i} is {excerpt(item, 120)}, not a {{display, value}} "
                                    "object")
    return out


def map_options(raw: Any) -> list[MapOption]:
    """A describe_source/describe_target options output as MapOptions (ids as text)."""
    if not isinstance(raw, list):
        raise OptionsShapeError(f"produced {excerpt(raw, 120)}, not a list of {{title, id}} "
                                "objects")
    out: list[MapOption] = []
    seen: set[Key] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not ("id" in item or "value" in item):
            raise OptionsShapeError(f"item {i} is {excerpt(item, 120)}, not a {{title, id}} "
                                    "object")
        ident = item["id"] if "id" in item else item["value"]
        if not scalar(ident) or ident is None or isinstance(ident, bool):
            raise OptionsShapeError(f"item {i} has id {excerpt(ident, 60)}: an id is a string "
                                    "or a number")
        title = next((item[k] for k in ("title", "display", "name") if k in item), ident)
        group = item.get("group")
        option = MapOption(_text(ident), _text(title), item.get("required") is True,
                           _text(group) if group not in (None, "") else None)
        if option.saved not in seen:  # the first of two equal options wins
            seen.add(option.saved)
            out.append(option)
    return out


def same(answer: Any, value: Any) -> bool:
    """Does an answer name this value? Equal, or equal as text for numbers and strings
    (unquoted YAML reads `1001` as a number while options often carry "1001")."""
    if answer == value and type(answer) is type(value):
        return True
    if isinstance(answer, bool) or isinstance(value, bool):
        return False
    return (isinstance(answer, str | int | float) and isinstance(value, str | int | float)
            and str(answer) == str(value))


def find_choice(answer: Any, choices: Sequence[Choice]) -> Choice | None:
    return next((c for c in choices if same(answer, c.value)), None)


def listing(items: Sequence[str], limit: int = SHOWN) -> str:
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return f"{shown} ... and {more} more" if more > 0 else shown or "(none)"


def describe_choices(choices: Sequence[Choice]) -> list[str]:
    return [_text(c.value) if c.display == _text(c.value) else f"{_text(c.value)} ({c.display})"
            for c in choices]


def unknown_choice_hint(answer: Any, choices: Sequence[Choice]) -> str:
    """Why an answer matches no option: the display it names, the closest values, and the
    values there are."""
    text = _text(answer)
    by_display = [c for c in choices if c.display == text or c.display.lower() == text.lower()]
    if by_display:
        return (f"{text!r} is the display of option {_text(by_display[0].value)!r}: answers "
                "give the value, which is stored; the display is looked up")
    values = [_text(c.value) for c in choices]
    close = difflib.get_close_matches(text, values, n=3, cutoff=0.6)
    if not close:
        displays = {c.display: _text(c.value) for c in choices}
        close = [displays[d] for d in difflib.get_close_matches(text, list(displays), n=3,
                                                                cutoff=0.6)]
    guess = f"did you mean {' or '.join(repr(v) for v in close)}? " if close else ""
    return f"{guess}(options: {listing(describe_choices(choices))})"


def unknown_key_hint(text: str, options: Sequence[MapOption]) -> str:
    """Why a mapping key names no option: a title given instead of an id, the closest keys,
    and the keys there are."""
    by_title = [o for o in options if o.title.lower() == text.lower()]
    if by_title:
        return (f"{text!r} is the title of {by_title[0].key!r}: the mapping uses option ids")
    keys = [o.key for o in options]
    close = difflib.get_close_matches(text, keys + [o.id for o in options], n=1, cutoff=0.6)
    guess = ""
    if close:
        match = next(o for o in options if close[0] in (o.key, o.id))
        guess = f"did you mean {match.key!r}? "
    return f"{guess}(options: {listing([o.describe() for o in options])})"
