"""The automatic transform between source and target (reference §5.3, DESIGN §4).

The saved mapping (what `setup` writes, `Setup.mapping`) names each pair's two sides
explicitly, under the reserved key `$pairs`:

    {"$pairs": [{"source": "buyer_email", "target": "email", "target_group": "contact"},
                {"source": "city", "target": "address.city"}]}

An entry's `source` / `target` is the option's id, the key read / written as it is (reference
§5.2: `id` is the key written; a dot in it is just a character); `source_group` /
`target_group` are present only for an option with a `group`: a grouped source reads
`record[group][id]` (grouped source output nests each group's fields under the group's name),
a grouped target writes `out[group][id]` (grouped target input, e.g. `ActiveCampaign.sync`).

The plain form `{source key: target key}` (saved by earlier versions, or written by hand) is
still read: there a grouped option was written `group.id`, indistinguishable from an id with a
dot, so a source key not found as it is is read as `record[group][id]`, and a target key with a
dot is written nested `out[group][id]`, as before. Setting the workflow up again saves the
explicit form.

Each mapped source key found in the record is renamed to its target key; unmapped keys are
dropped; `_tags` passes through. No map step means identity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TAGS = "_tags"
PAIRS = "$pairs"  # the reserved key of the explicit form
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class Key:
    """One side of a mapped pair: an option id, and its group when the option has one.
    `legacy`: from the plain form, where `group.id` and an id with a dot look alike."""

    id: str
    group: str | None = None
    legacy: bool = False

    def __str__(self) -> str:
        return self.id if self.group is None else f"{self.id} (group {self.group})"


def saved_mapping(pairs: Iterable[tuple[Key, Key]]) -> dict[str, Any]:
    """The explicit form of `(source, target)` pairs, as `setup` saves it."""
    entries: list[dict[str, str]] = []
    for source, target in pairs:
        entry = {"source": source.id, "target": target.id}
        if source.group is not None:
            entry["source_group"] = source.group
        if target.group is not None:
            entry["target_group"] = target.group
        entries.append(entry)
    return {PAIRS: entries}


def mapping_pairs(mapping: Mapping[str, Any]) -> list[tuple[Key, Key]]:
    """The `(source, target)` pairs of a saved mapping, explicit or plain form. Entries that
    are not pairs of text are skipped."""
    entries = mapping.get(PAIRS)
    if not isinstance(entries, list):  # the plain form
        return [(Key(str(s), legacy=True), Key(str(t), legacy=True))
                for s, t in mapping.items() if t is not None]
    out: list[tuple[Key, Key]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        source, target = entry.get("source"), entry.get("target")
        if not isinstance(source, str) or not isinstance(target, str):
            continue
        out.append((Key(source, _group(entry.get("source_group"))),
                    Key(target, _group(entry.get("target_group")))))
    return out


def _group(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def transform(record: Any, pairs: list[tuple[Key, Key]] | None) -> Any:
    """The target's input for one source record, given the saved mapping's pairs (read once
    per run with `mapping_pairs`); identity when `pairs` is None."""
    if pairs is None or not isinstance(record, dict):
        return record
    out: dict[str, Any] = {}
    for source, target in pairs:
        value = _read(record, source)
        if value is not _ABSENT:
            _write(out, target, value)
    if TAGS in record:
        out[TAGS] = record[TAGS]
    return out


def transformer(pairs: list[tuple[Key, Key]] | None) -> Callable[[Any], Any]:
    """`transform` with these pairs, made once per run: when every pair is a plain id to a
    plain id (no group, no dot), one dict comprehension per record."""
    if pairs is None:
        return lambda record: record
    if any(s.group is not None or t.group is not None or "." in s.id or "." in t.id
           for s, t in pairs):
        return lambda record: transform(record, pairs)
    plain = tuple((s.id, t.id) for s, t in pairs)

    def plain_transform(record: Any) -> Any:
        if type(record) is not dict:
            return record if not isinstance(record, dict) else transform(record, pairs)
        out = {t: record[s] for s, t in plain if s in record}
        if TAGS in record:
            out[TAGS] = record[TAGS]
        return out
    return plain_transform


def _read(record: dict[str, Any], key: Key) -> Any:
    if key.group is not None:
        nested = record.get(key.group)
        return nested[key.id] if isinstance(nested, dict) and key.id in nested else _ABSENT
    if key.id in record:
        return record[key.id]
    if key.legacy:  # plain form: `group.id`
        group, dot, name = key.id.partition(".")
        if dot and isinstance(record.get(group), dict) and name in record[group]:
            return record[group][name]
    return _ABSENT


def _write(out: dict[str, Any], key: Key, value: Any) -> None:
    group, name = key.group, key.id
    if group is None and key.legacy:  # plain form: `group.id`
        head, dot, tail = key.id.partition(".")
        if dot and tail:
            group, name = head, tail
    if group is not None:
        nested = out.setdefault(group, {})
        if isinstance(nested, dict):
            nested[name] = value
            return
        if key.group is not None:  # an ungrouped target named like the group came first
            out[group] = {name: value}
            return
    out[key.id] = value


def has_email(record: Any) -> bool:
    """Does a transformed inbound record carry an email (flat, or under `contact`)?"""
    if type(record) is not dict and not isinstance(record, dict):
        return False
    email = record.get("email")
    if type(email) is str:  # the common case first
        return bool(email.strip())
    if email is None and isinstance(record.get("contact"), dict):
        email = record["contact"].get("email")
    return isinstance(email, str) and bool(email.strip())
