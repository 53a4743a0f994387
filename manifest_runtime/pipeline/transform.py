"""The automatic transform between source and target (reference §5.3, DESIGN §4).

The saved mapping is `{source key: target key}`. Each source key found in the record is
renamed to its target key; unmapped keys are dropped; `_tags` passes through. Grouped keys are
written `group.key`: a grouped source key reads `record[group][key]` (grouped source output
nests each group's fields under the group's name), a grouped target key writes
`out[group][key]` (grouped target input). No map step means identity.
"""

from __future__ import annotations

from typing import Any

TAGS = "_tags"
_ABSENT = object()


def transform(record: Any, mapping: dict[str, str] | None) -> Any:
    """The target's input for one source record (identity when `mapping` is None)."""
    if mapping is None or not isinstance(record, dict):
        return record
    out: dict[str, Any] = {}
    for source, target in mapping.items():
        value = _read(record, source)
        if value is not _ABSENT:
            _write(out, str(target), value)
    if TAGS in record:
        out[TAGS] = record[TAGS]
    return out


def _read(record: dict[str, Any], key: str) -> Any:
    if key in record:
        return record[key]
    group, dot, name = key.partition(".")
    if dot and isinstance(record.get(group), dict) and name in record[group]:
        return record[group][name]
    return _ABSENT


def _write(out: dict[str, Any], key: str, value: Any) -> None:
    group, dot, name = key.partition(".")
    if dot and name:
        nested = out.setdefault(group, {})
        if isinstance(nested, dict):
            nested[name] = value
            return
    out[key] = value


def has_email(record: Any) -> bool:
    """Does a transformed inbound record carry an email (flat, or under `contact`)?"""
    if not isinstance(record, dict):
        return False
    email = record.get("email")
    if email is None and isinstance(record.get("contact"), dict):
        email = record["contact"].get("email")
    return isinstance(email, str) and bool(email.strip())
