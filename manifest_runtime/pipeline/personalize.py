"""Personalized textareas (DESIGN §4): in a form field with `personalize`, `%FIRSTNAME%`,
`%LASTNAME%`, `%EMAIL%`, `%PHONE%` and `%<CUSTOM_FIELD_PERSTAG>%` are replaced with the
processed contact's values when the field is expanded inside data_pipeline. Unknown tags stay
as written; a contact without the value gives the empty string."""

from __future__ import annotations

import re
from typing import Any

STANDARD = {"FIRSTNAME": "firstName", "LASTNAME": "lastName", "EMAIL": "email",
            "PHONE": "phone"}
_TAG = re.compile(r"%([A-Z][A-Z0-9_]*)%")


def personalized_fields(workflow: dict[str, Any]) -> frozenset[str]:
    """Ids of the workflow's textarea fields that have `personalize` set."""
    fields = ((workflow.get("setup") or {}).get("select") or {}).get("form_fields") or []
    return frozenset(str(f.get("id")) for f in fields if isinstance(f, dict)
                     and f.get("type") == "textarea" and f.get("personalize") not in (None, False))


def personalize(custom_data: dict[str, Any], fields: frozenset[str],
                contact: dict[str, Any] | None, perstags: dict[str, str]) -> dict[str, Any]:
    """custom_data with the personalized fields' texts filled in for `contact`. `perstags`
    maps a custom field's personalization tag to its id (COMPANY -> "1")."""
    if not fields or contact is None:
        return custom_data
    out = dict(custom_data)
    for field_id in fields & set(custom_data):
        entry = custom_data[field_id]
        if isinstance(entry, dict) and isinstance(entry.get("value"), str):
            text = _fill(entry["value"], contact, perstags)
            out[field_id] = {**entry, "value": text, "display": text}
    return out


def _fill(text: str, contact: dict[str, Any], perstags: dict[str, str]) -> str:
    raw = contact.get("fieldValues")
    values: dict[str, Any] = raw if isinstance(raw, dict) else {}

    def one(m: re.Match[str]) -> str:
        tag = m.group(1)
        if tag in STANDARD:
            value = contact.get(STANDARD[tag])
        elif tag in perstags:
            value = values.get(perstags[tag], contact.get(perstags[tag]))
        else:
            return m.group(0)
        return "" if value is None else str(value)

    return _TAG.sub(one, text)
