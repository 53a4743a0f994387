"""Write manifest data as commented YAML: `_comment` keys become `#` lines above their
object's keys, and commands (`{"!jq": "..."}`) become YAML tags (`!jq "..."`), as people write
them. The output loads back (with the manifest loader) to the same data without `_comment`.

Only what manifests hold: dicts, lists, strings, numbers, booleans and null.
"""

from __future__ import annotations

import json
import re
from typing import Any

COMMENT = "_comment"
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_ ./@:>-]*")
WIDTH = 96
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def dump(data: dict[str, Any]) -> str:
    return "".join(line + "\n" for line in _mapping(data, 0))


def scalar(value: Any) -> str:
    """A value on one line: plain when safe, else a JSON (= YAML double-quoted) string."""
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED \
                and not value.endswith((" ", ":")) and ": " not in value:
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


def _is_command(value: Any) -> bool:
    keys = [k for k in value if k != COMMENT] if isinstance(value, dict) else []
    return len(keys) == 1 and keys[0].startswith("!")


def _comments(value: dict[str, Any], pad: str) -> list[str]:
    import textwrap

    text = value.get(COMMENT)
    lines = text if isinstance(text, list) else [text] if text else []
    width = max(40, WIDTH - len(pad) - 2)
    return [f"{pad}# {part}".rstrip() for line in lines
            for part in textwrap.wrap(line, width) or [""]]


def _inline(value: Any) -> str | None:
    """A short flow form of a small mapping/list of scalars, else None."""
    if isinstance(value, dict) and not _is_command(value) and COMMENT not in value \
            and all(not isinstance(v, dict | list) for v in value.values()):
        text = "{" + ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in value.items()) + "}"
        return text if len(text) <= 70 else None
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        text = "[" + ", ".join(scalar(v) for v in value) + "]"
        return text if len(text) <= 70 else None
    return None


def _after_key(value: Any, indent: int) -> tuple[str, list[str]]:
    """What follows `key:` on its line, and the lines below it."""
    if _is_command(value):
        return _command(value, indent)
    if isinstance(value, dict | list):
        flow = _inline(value) if value else ("{}" if isinstance(value, dict) else "[]")
        if flow is not None:
            return " " + flow, []
        body = _mapping(value, indent + 2) if isinstance(value, dict) else _sequence(value,
                                                                                    indent)
        return "", body
    return " " + scalar(value), []


def _command(value: dict[str, Any], indent: int) -> tuple[str, list[str]]:
    name = next(k for k in value if k != COMMENT)
    arg = value[name]
    if isinstance(arg, dict | list):
        flow = _inline(arg)
        if flow is not None:
            return f" {name} {flow}", []
        body = _mapping(arg, indent + 2) if isinstance(arg, dict) else _sequence(arg, indent + 2)
        return f" {name}", body
    return f" {name} {scalar(arg)}", []


def _mapping(data: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines = _comments(data, pad)
    for key, value in data.items():
        if key == COMMENT:
            continue
        if isinstance(value, dict) and COMMENT in value and not _is_command(value):
            lines.extend(_comments(value, pad))
            value = {k: v for k, v in value.items() if k != COMMENT}
        head, body = _after_key(value, indent)
        lines.append(f"{pad}{scalar(key)}:{head}")
        lines.extend(body)
    return lines


def _sequence(items: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if _is_command(item):
            head, body = _command(item, indent + 2)
            lines.append(f"{pad}-{head}")
            lines.extend(body)
        elif isinstance(item, dict) and item:
            flow = _inline(item)
            if flow is not None:
                lines.append(f"{pad}- {flow}")
                continue
            lines.extend(_comments(item, pad))
            inner = _mapping({k: v for k, v in item.items() if k != COMMENT}, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        elif isinstance(item, list):
            lines.append(f"{pad}- {_inline(item) or json.dumps(item)}")
        else:
            lines.append(f"{pad}- {scalar(item)}")
    return lines
