"""The sandbox account's records as flat rows: what `sandbox` prints and the studio shows."""

from __future__ import annotations

import json
from typing import Any


def listing(account: Any, kind: str) -> list[dict[str, Any]]:
    """The records of one kind as flat rows (custom field values under their titles)."""
    if kind == "contacts":
        titles = {f.id: f.title for f in account.custom_fields}
        rows = []
        for contact in account.contacts.values():
            row = {"id": contact["id"], "email": contact["email"]}
            row.update({k: v for k, v in contact.items()
                        if k not in ("id", "email", "fieldValues", "tags")})
            row.update({titles.get(k, k): v for k, v in contact["fieldValues"].items()})
            row["tags"] = contact["tags"]
            rows.append(row)
        return rows
    if kind == "tags":
        return [{"id": i + 1, "tag": tag} for i, tag in enumerate(account.tags)]
    if kind == "deals":
        return [_id_first(d) for d in account.deals.values()]
    if kind == "accounts":
        return [_id_first(a) for a in account.accounts.values()]
    return [{"id": f["id"], "title": f["title"], "required": f["required"],
             "perstag": f.get("perstag", "")} for f in account.contact_fields()]


def _id_first(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record.get("id"), **{k: v for k, v in record.items() if k != "id"}}


def cell(value: Any) -> str:
    """A listed value as text: lists joined by commas, objects as JSON, None empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
