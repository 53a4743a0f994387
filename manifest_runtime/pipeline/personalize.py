"""Personalized textareas (DESIGN §4): in a form field with `personalize`, `%FIRSTNAME%`,
`%LASTNAME%`, `%EMAIL%`, `%PHONE%` and `%<CUSTOM_FIELD_PERSTAG>%` are replaced with the
processed contact's values when the field is expanded inside data_pipeline. Unknown tags stay
as written; a contact without the value gives the empty string.

Only an outbound workflow processes a contact (`run --contacts`); an inbound record is a
payload, not a contact, so its texts stay as written. A custom field's value is read from the
contact's `fieldValues`, in either shape: `{"<field id>": value}` (the sandbox's records), or
ActiveCampaign's v3 API list `[{"field": "<field id>", "value": value}, ...]`; else from the
contact's own `<field id>` key."""

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


def field_values(contact: dict[str, Any]) -> dict[str, Any]:
    """A contact's custom field values by field id (text): `fieldValues` as an object
    `{id: value}`, or as the v3 API's list `[{"field": id, "value": value}]` (items that are
    not such objects are skipped; of two for one field the first counts)."""
    raw = contact.get("fieldValues")
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    values: dict[str, Any] = {}
    for item in raw if isinstance(raw, list) else ():
        if isinstance(item, dict) and isinstance(item.get("field"), str | int) \
                and not isinstance(item.get("field"), bool) and "value" in item:
            values.setdefault(str(item["field"]), item["value"])
    return values


def _fill(text: str, contact: dict[str, Any], perstags: dict[str, str]) -> str:
    values = field_values(contact)

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
