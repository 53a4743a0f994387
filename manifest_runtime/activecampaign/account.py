"""The ActiveCampaign account's rules (DESIGN §4 `!resource`, §6 sandbox): standard + custom
contact fields, contacts upserted by email with tags, accounts by name, deals, custom-object
records, `ActiveCampaign.sync`, and a small v3 API. Records live in a `Storage` (storage.py):
`MemoryAccount` keeps them in memory, `SandboxAccount` in the SQLite state file. Ids are
deterministic (1, 2, 3, ... per kind)."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from ..http.types import HttpResponse
from ..store import StateDB
from .errors import ApiRejected, api_error, api_errors, api_rejected, contact_email_error
from .rules import (
    ACCOUNT_FIELDS,
    DEAL_FIELDS,
    STANDARD_CONTACT_FIELDS,
    TAGS_HINT,
    AccountRules,
    ContactData,
    contact_tags,
    fail,
    option,
)
from .storage import DEFAULT_CUSTOM_FIELDS, CustomField, MemoryStorage, SqliteStorage, Storage

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

__all__ = ["ACCOUNT_FIELDS", "DEAL_FIELDS", "STANDARD_CONTACT_FIELDS", "TAGS_HINT", "Account",
           "MemoryAccount", "SandboxAccount", "contact_tags", "option"]


def deal_problems(deal: dict[str, Any]) -> list[dict[str, Any]]:
    """Why the v3 API would refuse to create this deal (its required fields), as its 422
    `errors` items; empty when it would take it."""
    problems = []
    if not deal.get("title"):
        problems.append(api_error("Deal title is required.", "field_missing",
                                  "/data/attributes/title"))
    if deal.get("contact") in (None, "") and deal.get("account") in (None, ""):
        problems.append(api_error("A deal needs a contact or an account.", "field_missing",
                                  "/data/attributes/contact"))
    value = deal.get("value")
    if not ((isinstance(value, int) and not isinstance(value, bool) and value >= 0)
            or (isinstance(value, str) and value.strip().isdigit())):
        problems.append(api_error("Deal value must be a whole number of cents, 0 or more.",
                                  "field_invalid", "/data/attributes/value"))
    if not isinstance(deal.get("currency"), str) or len(deal["currency"]) != 3:
        problems.append(api_error("Deal currency must be a 3-letter ISO code, e.g. usd.",
                                  "field_invalid", "/data/attributes/currency"))
    if deal.get("group") in (None, "") and deal.get("stage") in (None, ""):
        problems.append(api_error("A deal needs a pipeline (group) or a stage.",
                                  "field_missing", "/data/attributes/group"))
    return problems

class Account(AccountRules):
    """An ActiveCampaign account over a Storage (implements `ActiveCampaign`). Each public
    write is one storage transaction. What it refuses it refuses as the v3 API does (the same
    422 answers, errors.py)."""

    users: tuple[dict[str, Any], ...] = ({"id": "1", "title": "Admin User"},)
    pipelines: tuple[dict[str, Any], ...] = ({"id": "1", "title": "Sales Pipeline"},)
    stages: tuple[dict[str, Any], ...] = ({"id": "1", "title": "To Contact"},
                                          {"id": "2", "title": "Qualified"})

    def __init__(self, storage: Storage, contact: dict[str, Any] | None = None) -> None:
        self.storage = storage
        self.contact = contact  # the contact being processed (outbound source)
        # tag names by casefold, read from the storage once (tags are never deleted), so a
        # record's tags cost no scan of the tag table
        self._tag_names: dict[str, str] | None = None
        self._tag_lists: dict[tuple[str, ...], list[str]] = {}  # _tag_list

    @property
    def custom_fields(self) -> tuple[CustomField, ...]:
        return self.storage.custom_fields()

    def user_options(self) -> list[dict[str, Any]]:
        return [dict(u) for u in self.users]

    def pipeline_options(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.pipelines]

    def stage_options(self) -> list[dict[str, Any]]:
        return [dict(s) for s in self.stages]

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

    # ------------------------------------------------------------------ writes

    def _write_contact(self, data: ContactData) -> dict[str, Any]:
        email = data.email
        if not isinstance(email, str) or not EMAIL.fullmatch(email.strip()):
            raise contact_email_error(email)
        key = email.lower()
        storage = self.storage
        with storage.transaction():
            contact = storage.get("contact", key)
            if contact is None:
                changed = True
                contact = {"id": storage.next_id("contact"), "email": email, "fieldValues": {},
                           "tags": []}
            else:  # a contact imported again as it is: nothing to write
                changed = not (_unchanged(contact, data.fields)
                               and _unchanged(contact["fieldValues"], data.field_values))
            contact.update(data.fields)
            contact["fieldValues"].update(data.field_values)
            if data.tags:
                tags = contact["tags"]
                for name in self._tag_list(data.tags) if not tags else \
                        self._new_tags(tags, data.tags):
                    storage.add_tag(name)  # idempotent; again after a rolled-back batch
                    tags.append(name)
                    changed = True
            if changed:
                storage.put("contact", key, contact)
        return contact

    def _new_tags(self, have: list[str], given: tuple[str, ...]) -> list[str]:
        """The account's names of the tags in `given` that `have` lacks (names compare
        without case, as ActiveCampaign's do; a missing tag is created by that name)."""
        for tag in given:  # the common case of a contact imported again: it has them all
            if tag not in have:
                break
        else:
            return []
        names = self._tag_names if self._tag_names is not None else self._names()
        folded_have = {t.casefold() for t in have}
        out = []
        for tag in given:
            folded = tag.casefold()
            if folded not in folded_have:
                folded_have.add(folded)
                out.append(names.setdefault(folded, tag))
        return out

    def _tag_list(self, given: tuple[str, ...]) -> list[str]:
        """`_new_tags([], given)`, kept for the next contacts (an import gives every contact
        the same few tags; a tag's name never changes once the account has it)."""
        found = self._tag_lists.get(given)
        if found is None:
            found = self._new_tags([], given)
            if len(self._tag_lists) < 64:  # a few lists: tags taken from payloads vary
                self._tag_lists[given] = found
        return found

    def _names(self) -> dict[str, str]:
        """The account's tag names by casefold, read once (tags are never deleted), so a
        record's tags cost no scan of the tag table."""
        names: dict[str, str] = {}
        for known in self.storage.tags():
            names.setdefault(known.casefold(), known)
        self._tag_names = names
        return names

    def _write_account(self, account: dict[str, Any]) -> Any:
        name = account["name"]
        with self.storage.transaction():
            stored = self.storage.get("account", name) or {"id": self._next("account")}
            stored.update(account)
            self.storage.put("account", name, stored)
        return stored["id"]

    def _link_account_contact(self, account_id: Any, contact_id: Any) -> Any:
        return self._next("account_contact")

    def _write_deal(self, deal: dict[str, Any], existing: int | None) -> Any:
        with self.storage.transaction():
            if existing is not None:
                stored = self.storage.get("deal", str(existing))
                if stored is None:
                    raise fail("deal-not-found", f"deal {existing} does not exist")
                self.storage.put("deal", str(existing), {**stored, **deal, "id": existing})
                return existing
            problems = deal_problems(deal)
            if problems:
                raise api_rejected(422, api_errors(*problems), "the deal",
                                   "map the deal's title, value, currency and pipeline or "
                                   "stage; ActiveCampaign.sync links the synced contact",
                                   code="ac-rejected")
            new_id = self._next("deal")
            self.storage.put("deal", str(new_id), {**deal, "id": new_id})
        return new_id

    def _write_custom_object(self, record: dict[str, Any]) -> Any:
        key = json.dumps([str(record["schemaId"]), str(record["externalId"])])
        with self.storage.transaction():
            stored = self.storage.get("custom_object", key) or {}
            self.storage.put("custom_object", key, {**stored, **record})
        return record["externalId"]

    def sync(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self.storage.transaction():
            return super().sync(payload)

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
            given = body.get("contact")
            given = dict(given) if isinstance(given, dict) else {}
            for item in given.pop("fieldValues", None) or ():  # the v3 form of custom values
                if isinstance(item, dict) and "field" in item:
                    given[str(item["field"])] = item.get("value")
            try:
                contact = self.upsert_contact(given)
            except ApiRejected as exc:
                return HttpResponse(exc.status, headers, exc.body)
            return HttpResponse(201, headers, {"contact": contact})
        if method == "GET" and route == "tags":
            search = str((params or {}).get("search") or "").casefold()
            tags = [{"id": str(i + 1), "tag": t, "tagType": "contact"}
                    for i, t in enumerate(self.tags) if search in t.casefold()]
            return HttpResponse(200, headers, _page("tags", tags, params))
        if method == "POST" and route == "tags" and isinstance(body, dict):
            given = body.get("tag")
            tag = str(given.get("tag", "") if isinstance(given, dict) else given or "")
            if not tag.strip():
                return HttpResponse(422, headers, api_errors(api_error(
                    "Tag name is required.", "field_missing", "/data/attributes/tag")))
            if tag.casefold() in (t.casefold() for t in self.tags):
                return HttpResponse(422, headers, api_errors(api_error(
                    "Duplicate tag.", "duplicate", "/data/attributes/tag")))
            self.storage.add_tag(tag)
            return HttpResponse(201, headers, {"tag": {"id": str(self.tags.index(tag) + 1),
                                                       "tag": tag, "tagType": "contact"}})
        if method == "POST" and route == "contactTags" and isinstance(body, dict):
            return self._api_contact_tag(body.get("contactTag"), headers)
        if method == "GET" and route == "fields":
            fields = [{"id": f.id, "title": f.title, "perstag": f.perstag, "type": f.type}
                      for f in self.custom_fields]
            return HttpResponse(200, headers, _page("fields", fields, params))
        return HttpResponse(404, headers, {"message": f"No Result found for {method} {path}"})


    def _api_contact_tag(self, link: Any, headers: dict[str, str]) -> HttpResponse:
        """`POST /api/3/contactTags {contactTag: {contact, tag}}`: ids as the API gives
        them (the contact's id, the tag's position in `GET tags`)."""
        link = link if isinstance(link, dict) else {}
        contact = next((c for c in self.contacts.values()
                        if str(c["id"]) == str(link.get("contact"))), None)
        tags = self.tags
        index = int(link["tag"]) - 1 if str(link.get("tag", "")).isdigit() else -1
        if contact is None or not 0 <= index < len(tags):
            what = "Contact" if contact is None else "Tag"
            return HttpResponse(404, headers, {"message": f"No Result found for {what}"})
        self.upsert_contact({"email": contact["email"], "_tags": [tags[index]]})
        return HttpResponse(201, headers, {"contactTag": {
            "contact": str(contact["id"]), "tag": str(index + 1)}})


def _unchanged(into: dict[str, Any], new: dict[str, Any]) -> bool:
    """Would `into.update(new)` leave `into` as it is? Texts and nulls are compared; any other
    value counts as a change (1, 1.0 and true are equal in Python, not in JSON)."""
    for k, v in new.items():
        if k not in into:
            return False
        old = into[k]
        if not ((v is None and old is None)
                or (type(v) is str and type(old) is str and v == old)):
            return False
    return True


def _page(key: str, items: list[dict[str, Any]], params: dict[str, Any] | None
          ) -> dict[str, Any]:
    """A v3 listing page: `limit` (default 20, at most 100) items from `offset`, and
    `meta.total`."""
    params = params or {}

    def number(name: str, default: int) -> int:
        text = str(params.get(name, default))
        return int(text) if text.isdigit() else default

    limit, offset = min(number("limit", 20), 100), number("offset", 0)
    return {key: items[offset:offset + limit], "meta": {"total": str(len(items))}}


class MemoryAccount(Account):
    """An account held in memory: for tests and `--state :memory:`."""

    def __init__(self, contact: dict[str, Any] | None = None,
                 custom_fields: tuple[CustomField, ...] = DEFAULT_CUSTOM_FIELDS) -> None:
        super().__init__(MemoryStorage(custom_fields), contact)


class SandboxAccount(Account):
    """The embedded sandbox: an account kept in the SQLite state file (DESIGN §6)."""

    def __init__(self, db: StateDB, contact: dict[str, Any] | None = None,
                 lock: threading.RLock | None = None) -> None:
        super().__init__(SqliteStorage(db, lock=lock), contact)
