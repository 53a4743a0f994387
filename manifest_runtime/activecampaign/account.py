"""The ActiveCampaign account's rules (DESIGN §4 `!resource`, §6 sandbox): standard + custom
contact fields, contacts upserted by email with tags, accounts by name, deals, custom-object
records, `ActiveCampaign.sync`, and a small v3 API. Records live in a `Storage` (storage.py):
`MemoryAccount` keeps them in memory, `SandboxAccount` in the SQLite state file. Ids are
deterministic (1, 2, 3, ... per kind)."""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from typing import Any

from ..errors import Diagnostic, EvaluationError, describe
from ..http.types import HttpResponse
from .storage import DEFAULT_CUSTOM_FIELDS, CustomField, MemoryStorage, SqliteStorage, Storage

STANDARD_CONTACT_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("email", "Email", True),
    ("firstName", "First Name", False),
    ("lastName", "Last Name", False),
    ("phone", "Phone", False),
)
ACCOUNT_FIELDS = (("name", "Account Name", True), ("accountUrl", "Account URL", False),
                  ("owner", "Account Owner", False))
DEAL_FIELDS = (("title", "Deal Title", True), ("value", "Deal Value", False),
               ("currency", "Deal Currency", False), ("description", "Description", False),
               ("group", "Deal Pipeline", False), ("stage", "Deal Stage", False),
               ("owner", "Deal Owner", False))


def option(id_: str, title: str, required: bool = False, **extra: Any) -> dict[str, Any]:
    """A field as both a map option ({id, title, required}) and a select option
    ({value, display})."""
    return {"id": id_, "title": title, "required": required, "value": id_, "display": title,
            **extra}


def _fail(code: str, message: str, hint: str | None = None) -> EvaluationError:
    return EvaluationError(Diagnostic(code=code, message=message, hint=hint))


TAGS_HINT = 'give `_tags` a list of tags, e.g. ["activetrail", "vip"], or one tag as a string'


def contact_tags(raw: Any) -> list[str]:
    """The tags a contact's `_tags` names: a list of texts or numbers (a number is taken as
    its text), or one string (one tag); null or absent is none. Anything else, and a blank tag,
    is a `contact-tags` error: a string is never split into characters, an object's keys are
    not tags."""
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise _fail("contact-tags", f"`_tags` must be a list of tags or one tag, got "
                    f"{describe(raw)}", TAGS_HINT)
    tags: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise _fail("contact-tags", f"`_tags` item {i} must be a text or a number, got "
                        f"{describe(item)}", TAGS_HINT)
        tag = item if isinstance(item, str) else str(item)
        if not tag.strip():
            which = "`_tags`" if isinstance(raw, str) else f"`_tags` item {i}"
            raise _fail("contact-tags", f"{which} is blank: a tag needs a name", TAGS_HINT)
        if tag not in tags:
            tags.append(tag)
    return tags


class Account:
    """An ActiveCampaign account over a Storage (implements `ActiveCampaign`). Each public
    write is one storage transaction."""

    users: tuple[dict[str, Any], ...] = ({"id": "1", "title": "Admin User"},)
    pipelines: tuple[dict[str, Any], ...] = ({"id": "1", "title": "Sales Pipeline"},)
    stages: tuple[dict[str, Any], ...] = ({"id": "1", "title": "To Contact"},
                                          {"id": "2", "title": "Qualified"})

    def __init__(self, storage: Storage, contact: dict[str, Any] | None = None) -> None:
        self.storage = storage
        self.contact = contact  # the contact being processed (outbound source)

    @property
    def custom_fields(self) -> tuple[CustomField, ...]:
        return self.storage.custom_fields()

    @property
    def contacts(self) -> dict[str, dict[str, Any]]:
        """Every contact by lower-case email (copies)."""
        return self.storage.records("contact")

    @property
    def accounts(self) -> dict[str, dict[str, Any]]:
        return self.storage.records("account")

    @property
    def deals(self) -> dict[int, dict[str, Any]]:
        return {int(k): v for k, v in self.storage.records("deal").items()}

    @property
    def tags(self) -> list[str]:
        return self.storage.tags()

    def _next(self, kind: str) -> int:
        return self.storage.next_id(kind)

    # ------------------------------------------------------------------ fields

    def current_contact(self) -> dict[str, Any] | None:
        return copy.deepcopy(self.contact) if self.contact is not None else None

    def contact_fields(self) -> list[dict[str, Any]]:
        out = [option(i, t, r) for i, t, r in STANDARD_CONTACT_FIELDS]
        out += [option(f.id, f.title, perstag=f.perstag) for f in self.custom_fields]
        return out

    def account_fields(self) -> list[dict[str, Any]]:
        return [option(i, t, r, source_fields=list(self.users)) if i == "owner"
                else option(i, t, r) for i, t, r in ACCOUNT_FIELDS]

    def deal_fields(self) -> list[dict[str, Any]]:
        fixed = {"group": list(self.pipelines), "stage": list(self.stages),
                 "owner": list(self.users),
                 "currency": [{"id": "usd", "title": "USD"}, {"id": "eur", "title": "EUR"}]}
        return [option(i, t, r, source_fields=fixed[i]) if i in fixed else option(i, t, r)
                for i, t, r in DEAL_FIELDS]

    def all_fields(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for group, items in (("contact", self.contact_fields()),
                             ("account", self.account_fields()),
                             ("deal", self.deal_fields())):
            out += [{**item, "group": group} for item in items]
        return out

    # ------------------------------------------------------------------ writes

    def upsert_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(data, dict):  # e.g. ActiveCampaign.sync {"contact": "a@b.c"}
            raise _fail("contact-email", f"a contact is an object with an email, got "
                        f"{type(data).__name__}", 'e.g. {"email": "ada@example.com"}')
        email = data.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise _fail("contact-email", f"a contact needs an email address, got {email!r}",
                        "map a source field to the ActiveCampaign Email field")
        known = {i for i, _, _ in STANDARD_CONTACT_FIELDS} | {f.id for f in self.custom_fields}
        unknown = [name for name in data if name not in ("email", "_tags") and name not in known]
        if unknown:  # checked before anything is written
            raise _fail("contact-field", f"contact field {unknown[0]!r} does not exist",
                        f"fields: {', '.join(sorted(known))}")
        tags = contact_tags(data.get("_tags"))  # also checked before anything is written
        key = email.lower()
        with self.storage.transaction():
            contact = self.storage.get("contact", key)
            if contact is None:
                contact = {"id": self._next("contact"), "email": email, "fieldValues": {},
                           "tags": []}
            for name, value in data.items():
                if name in ("email", "_tags"):
                    continue
                if name.isdigit():
                    contact["fieldValues"][name] = value
                else:
                    contact[name] = value
            for tag in tags:
                if tag not in contact["tags"]:
                    contact["tags"].append(tag)
                self.storage.add_tag(tag)
            self.storage.put("contact", key, contact)
        return contact

    def account_sync(self, data: dict[str, Any]) -> dict[str, Any]:
        account = data.get("account", data)
        name = account.get("name") if isinstance(account, dict) else None
        if not isinstance(account, dict) or not isinstance(name, str) or not name:
            raise _fail("account-name", "an account needs a name")
        with self.storage.transaction():
            stored = self.storage.get("account", name) or {"id": self._next("account")}
            stored.update(account)
            self.storage.put("account", name, stored)
        return {"account_id": stored["id"]}

    def deal_sync(self, data: dict[str, Any]) -> dict[str, Any]:
        deal = data.get("deal", data)
        if not isinstance(deal, dict):
            raise _fail("deal", "a deal is an object")
        with self.storage.transaction():
            if "id" in deal:
                deal_id = _deal_id(deal["id"])
                stored = self.storage.get("deal", str(deal_id))
                if stored is None:
                    raise _fail("deal-not-found", f"deal {deal_id} does not exist")
                self.storage.put("deal", str(deal_id), {**stored, **deal, "id": deal_id})
                return {"deal_id": deal_id}
            if not deal.get("title"):
                raise _fail("deal-title", "a new deal needs a title")
            deal_id = self._next("deal")
            self.storage.put("deal", str(deal_id), {**deal, "id": deal_id})
        return {"deal_id": deal_id}

    def sync(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self.storage.transaction():
            return self._sync(payload)

    def _sync(self, payload: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        errors: list[str] = []
        tried = 0
        if "contact" in payload:
            tried += 1
            try:
                out["contact-id"] = self.upsert_contact(payload["contact"])["id"]
            except EvaluationError as exc:
                errors.append(f"contact: {exc.diagnostic.message}")
        if "account" in payload:
            tried += 1
            try:
                out.update(self.account_sync({"account": payload["account"]}))
                if "contact-id" in out:
                    out["account_contact_id"] = self._next("account_contact")
            except EvaluationError as exc:
                errors.append(f"account: {exc.diagnostic.message}")
        if "deal" in payload:
            tried += 1
            deal = dict(payload["deal"]) if isinstance(payload["deal"], dict) else payload["deal"]
            if isinstance(deal, dict):
                deal.setdefault("contact", out.get("contact-id"))
                deal.setdefault("account", out.get("account_id"))
            try:
                out.update(self.deal_sync({"deal": deal}))
            except EvaluationError as exc:
                errors.append(f"deal: {exc.diagnostic.message}")
        records = payload.get("customObjects") or ()
        if isinstance(records, dict):  # one record given bare
            records = [records]
        for record in records if isinstance(records, list | tuple) else [records]:
            tried += 1
            try:
                out.setdefault("external_ids", []).append(self._custom_object(record))
            except EvaluationError as exc:
                errors.append(f"customObjects: {exc.diagnostic.message}")
        if tried == 0:
            raise _fail("sync-empty", "ActiveCampaign.sync got none of contact, account, deal, "
                        "customObjects", "nest the mapped fields under their group names")
        if errors and len(errors) == tried:
            raise _fail("sync-failed", "ActiveCampaign.sync: every record failed: "
                        + "; ".join(errors))
        if errors:
            out["errors"] = errors
        return out

    def _custom_object(self, record: Any) -> Any:
        if not isinstance(record, dict) or not record.get("schemaId") or \
                not record.get("externalId"):
            raise _fail("custom-object", "a custom object record needs schemaId and externalId")
        key = json.dumps([str(record["schemaId"]), str(record["externalId"])])
        with self.storage.transaction():
            stored = self.storage.get("custom_object", key) or {}
            self.storage.put("custom_object", key, {**stored, **record})
        return record["externalId"]

    # ------------------------------------------------------------------ v3 API

    def api(self, method: str, path: str, params: dict[str, Any] | None, body: Any
            ) -> HttpResponse:
        route = path.strip("/").split("?", 1)[0]
        route = route.removeprefix("api/3/")
        headers = {"content-type": "application/json"}
        if method == "GET" and route == "contacts":
            email = (params or {}).get("email")
            found = [c for k, c in self.contacts.items() if email is None or k == email.lower()]
            return HttpResponse(200, headers, {"contacts": found,
                                               "meta": {"total": str(len(found))}})
        if method == "POST" and route == "contact/sync" and isinstance(body, dict):
            contact = self.upsert_contact(body.get("contact", {}))
            return HttpResponse(201, headers, {"contact": contact})
        if method == "GET" and route == "tags":
            return HttpResponse(200, headers, {"tags": [
                {"id": str(i + 1), "tag": t} for i, t in enumerate(self.tags)]})
        if method == "POST" and route == "tags" and isinstance(body, dict):
            given = body.get("tag")
            tag = str(given.get("tag", "") if isinstance(given, dict) else given or "")
            if not tag:
                return HttpResponse(422, headers, {"errors": [{"title": "tag is required"}]})
            self.storage.add_tag(tag)
            return HttpResponse(201, headers, {"tag": {"id": str(self.tags.index(tag) + 1),
                                                       "tag": tag}})
        if method == "GET" and route == "fields":
            return HttpResponse(200, headers, {"fields": [
                {"id": f.id, "title": f.title, "perstag": f.perstag, "type": f.type}
                for f in self.custom_fields]})
        return HttpResponse(404, headers, {"message": f"No Result found for {method} {path}"})


def _deal_id(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _fail("deal-not-found", f"a deal id is a number, got {value!r}",
                "leave id out to create a deal; give the id ActiveCampaign returned to "
                "update one")


class MemoryAccount(Account):
    """An account held in memory: for tests and `--state :memory:`."""

    def __init__(self, contact: dict[str, Any] | None = None,
                 custom_fields: tuple[CustomField, ...] = DEFAULT_CUSTOM_FIELDS) -> None:
        super().__init__(MemoryStorage(custom_fields), contact)


class SandboxAccount(Account):
    """The embedded sandbox: an account kept in the SQLite state file (DESIGN §6)."""

    def __init__(self, db: sqlite3.Connection, contact: dict[str, Any] | None = None,
                 lock: threading.RLock | None = None) -> None:
        super().__init__(SqliteStorage(db, lock=lock), contact)
