"""What both accounts (the sandbox and a real one through v3) do the same way: the field
lists the map step offers, how a contact's data splits into standard fields, custom field
values and tags, `ActiveCampaign.sync` with its partial failures, the account and deal
upserts, and which keys a target cannot use (reported through ignored.py, never dropped
silently). `AccountRules` implements the `ActiveCampaign` Protocol (types.py) over a few
primitive writes that each account implements (`_write_contact`, `_write_account`, ...).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic, EvaluationError, describe
from ..http.types import HttpResponse
from .ignored import report_ignored
from .storage import CustomField

STANDARD_CONTACT_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("email", "Email", True),
    ("firstName", "First Name", False),
    ("lastName", "Last Name", False),
    ("phone", "Phone", False),
)
STANDARD_IDS = frozenset(i for i, _, _ in STANDARD_CONTACT_FIELDS)
_PLAIN = STANDARD_IDS - {"email"}  # the standard fields kept as they are
ACCOUNT_FIELDS = (("name", "Account Name", True), ("accountUrl", "Account URL", False),
                  ("owner", "Account Owner", False))
DEAL_FIELDS = (("title", "Deal Title", True), ("value", "Deal Value", False),
               ("currency", "Deal Currency", False), ("description", "Description", False),
               ("group", "Deal Pipeline", False), ("stage", "Deal Stage", False),
               ("owner", "Deal Owner", False))
# what the v3 API takes in an account / a deal (besides the mapped fields above)
ACCOUNT_KEYS = frozenset({"name", "accountUrl", "owner", "fields"})
DEAL_KEYS = frozenset({"title", "value", "currency", "description", "group", "stage", "owner",
                       "contact", "account", "percent", "status", "fields", "id"})
SYNC_KEYS = ("contact", "account", "deal", "customObjects", "_tags")
CURRENCIES = ({"id": "usd", "title": "USD"}, {"id": "eur", "title": "EUR"})
TAGS_HINT = 'give `_tags` a list of tags, e.g. ["activetrail", "vip"], or one tag as a string'


def option(id_: str, title: str, required: bool = False, **extra: Any) -> dict[str, Any]:
    """A field as both a map option ({id, title, required}) and a select option
    ({value, display})."""
    return {"id": id_, "title": title, "required": required, "value": id_, "display": title,
            **extra}


def fail(code: str, message: str, hint: str | None = None) -> EvaluationError:
    return EvaluationError(Diagnostic(code=code, message=message, hint=hint))


def contact_tags(raw: Any) -> list[str]:
    """The tags a contact's `_tags` names: a list of texts or numbers (a number is taken as
    its text), or one string (one tag); null or absent is none. Anything else, and a blank tag,
    is a `contact-tags` error: a string is never split into characters, an object's keys are
    not tags."""
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise fail("contact-tags", f"`_tags` must be a list of tags or one tag, got "
                   f"{describe(raw)}", TAGS_HINT)
    tags: list[str] = []
    for i, item in enumerate(items):
        if type(item) is str:  # the common case first: once per tag of every contact
            tag = item
        elif isinstance(item, bool) or not isinstance(item, str | int | float):
            raise fail("contact-tags", f"`_tags` item {i} must be a text or a number, got "
                       f"{describe(item)}", TAGS_HINT)
        else:
            tag = item if isinstance(item, str) else str(item)
        if not tag.strip():
            which = "`_tags`" if isinstance(raw, str) else f"`_tags` item {i}"
            raise fail("contact-tags", f"{which} is blank: a tag needs a name", TAGS_HINT)
        if tag not in tags:
            tags.append(tag)
    return tags


@dataclass(frozen=True)
class ContactData:
    """A contact to upsert, split the way the v3 API takes it."""

    email: Any  # checked by the account (the sandbox answers as the API does)
    fields: dict[str, Any] = field(default_factory=dict)  # firstName, lastName, phone
    field_values: dict[str, Any] = field(default_factory=dict)  # custom field id -> value
    tags: tuple[str, ...] = ()


_IDS: list[Any] = [None, frozenset()]  # [custom fields, their ids]: the last asked


def _custom_ids(custom: tuple[CustomField, ...]) -> frozenset[str]:
    """The ids of these custom fields (an account gives the same tuple for every contact)."""
    known = _IDS
    if known[0] is not custom:
        known[:] = [custom, frozenset(f.id for f in custom)]
    ids: frozenset[str] = known[1]
    return ids


def contact_data(data: Any, custom: tuple[CustomField, ...]) -> ContactData:
    """Split a contact object; an unknown field or bad `_tags` is an error raised before
    anything is written."""
    if not isinstance(data, dict):  # e.g. ActiveCampaign.sync {"contact": "a@b.c"}
        raise fail("contact-email", f"a contact is an object with an email, got "
                   f"{type(data).__name__}", 'e.g. {"email": "ada@example.com"}')
    custom_ids = _custom_ids(custom)
    fields: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for k, v in data.items():  # one pass: once per contact
        if k in _PLAIN:  # firstName, lastName, phone
            fields[k] = v
            if k in custom_ids:
                values[k] = v
        elif k in custom_ids:
            values[k] = v
        elif k != "email" and k != "_tags":  # the first unknown field, in the data's order
            known = sorted(STANDARD_IDS | custom_ids)
            raise fail("contact-field", f"contact field {k!r} does not exist",
                       f"fields: {', '.join(known)}")
    tags = data.get("_tags")
    return ContactData(data.get("email"), fields, values,
                       () if tags is None else tuple(contact_tags(tags)))


def known_part(data: dict[str, Any], keys: frozenset[str], where: str) -> dict[str, Any]:
    """The keys an account or deal takes; each other key is reported as ignored."""
    report_ignored([f"{where}.{k}" for k in data if k not in keys])
    return {k: v for k, v in data.items() if k in keys}


def deal_id(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise fail("deal-not-found", f"a deal id is a number, got {value!r}",
               "leave id out to create a deal; give the id ActiveCampaign returned to "
               "update one")


def plain_id(value: Any) -> Any:
    """An id as the sandbox gives it: a number (the v3 API writes ids as digit strings)."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


class AccountRules(ABC):
    """An ActiveCampaign account (the `ActiveCampaign` Protocol) over primitive writes."""

    contact: dict[str, Any] | None = None  # the contact being processed (outbound source)

    # ------------------------------------------------------------ primitives (per account)

    @property
    @abstractmethod
    def custom_fields(self) -> tuple[CustomField, ...]:
        """The account's custom contact fields."""

    @abstractmethod
    def user_options(self) -> list[dict[str, Any]]:
        """Users as `{id, title}` (account and deal owners)."""

    @abstractmethod
    def pipeline_options(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    def stage_options(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    def _write_contact(self, contact: ContactData) -> dict[str, Any]:
        """Upsert by email and apply the tags; the contact as the sandbox keeps it."""

    @abstractmethod
    def _write_account(self, account: dict[str, Any]) -> Any:
        """Upsert by name; the account's id."""

    @abstractmethod
    def _link_account_contact(self, account_id: Any, contact_id: Any) -> Any: ...

    @abstractmethod
    def _write_deal(self, deal: dict[str, Any], existing: int | None) -> Any:
        """Create a deal (`existing` None) or update deal `existing`; the deal's id."""

    @abstractmethod
    def _write_custom_object(self, record: dict[str, Any]) -> Any: ...

    @abstractmethod
    def api(self, method: str, path: str, params: dict[str, Any] | None, body: Any
            ) -> HttpResponse: ...

    # ------------------------------------------------------------------ fields

    def current_contact(self) -> dict[str, Any] | None:
        return copy.deepcopy(self.contact) if self.contact is not None else None

    def contact_fields(self) -> list[dict[str, Any]]:
        out = [option(i, t, r) for i, t, r in STANDARD_CONTACT_FIELDS]
        out += [option(f.id, f.title, perstag=f.perstag) for f in self.custom_fields]
        return out

    def account_fields(self) -> list[dict[str, Any]]:
        return [option(i, t, r, source_fields=self.user_options()) if i == "owner"
                else option(i, t, r) for i, t, r in ACCOUNT_FIELDS]

    def deal_fields(self) -> list[dict[str, Any]]:
        fixed = {"group": self.pipeline_options(), "stage": self.stage_options(),
                 "owner": self.user_options(), "currency": [dict(c) for c in CURRENCIES]}
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
        return self._write_contact(contact_data(data, self.custom_fields))

    def account_sync(self, data: dict[str, Any]) -> dict[str, Any]:
        if "account" in data:
            report_ignored([k for k in data if k != "account"])
        account = data.get("account", data)
        name = account.get("name") if isinstance(account, dict) else None
        if not isinstance(account, dict) or not isinstance(name, str) or not name:
            raise fail("account-name", "an account needs a name")
        return {"account_id": self._write_account(known_part(account, ACCOUNT_KEYS,
                                                             "account"))}

    def deal_sync(self, data: dict[str, Any]) -> dict[str, Any]:
        if "deal" in data:
            report_ignored([k for k in data if k != "deal"])
        deal = data.get("deal", data)
        if not isinstance(deal, dict):
            raise fail("deal", f"a deal is an object, got {describe(deal)}")
        deal = known_part(deal, DEAL_KEYS, "deal")
        existing = deal_id(deal.pop("id")) if "id" in deal else None
        return {"deal_id": self._write_deal(deal, existing)}

    def sync(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`ActiveCampaign.sync`: each part on its own; a top-level `_tags` tags the
        contact."""
        report_ignored([k for k in payload if k not in SYNC_KEYS])
        out: dict[str, Any] = {}
        errors: list[str] = []
        tried = 0
        if "contact" in payload:
            tried += 1
            try:
                out["contact-id"] = self.upsert_contact(_with_top_tags(payload))["id"]
            except EvaluationError as exc:
                errors.append(f"contact: {exc.diagnostic.message}")
        elif "_tags" in payload:
            report_ignored(["_tags (there is no contact to tag)"])
        if "account" in payload:
            tried += 1
            try:
                out.update(self.account_sync({"account": payload["account"]}))
            except EvaluationError as exc:
                errors.append(f"account: {exc.diagnostic.message}")
            if "contact-id" in out and "account_id" in out:
                try:
                    out["account_contact_id"] = self._link_account_contact(
                        out["account_id"], out["contact-id"])
                except EvaluationError as exc:  # e.g. linked to an account already
                    report_ignored([f"account_contact (not written: "
                                    f"{exc.diagnostic.message})"])
        if "deal" in payload:
            tried += 1
            deal = dict(payload["deal"]) if isinstance(payload["deal"], dict) else payload["deal"]
            if isinstance(deal, dict):
                for key, made in (("contact", "contact-id"), ("account", "account_id")):
                    if deal.get(key) is None and made in out:
                        deal[key] = out[made]
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
            raise fail("sync-empty", "ActiveCampaign.sync got none of contact, account, deal, "
                       "customObjects", "nest the mapped fields under their group names")
        if errors and len(errors) == tried:
            raise fail("sync-failed", "ActiveCampaign.sync: every record failed: "
                       + "; ".join(errors))
        if errors:  # the record is delivered, these parts are not: say so
            out["errors"] = errors
            report_ignored(f"{part} (not written: {why})"
                           for part, _, why in (e.partition(": ") for e in errors))
        return out

    def _custom_object(self, record: Any) -> Any:
        if not isinstance(record, dict) or not record.get("schemaId") or \
                not record.get("externalId"):
            raise fail("custom-object", "a custom object record needs schemaId and externalId")
        self._write_custom_object(record)
        return record["externalId"]


def _with_top_tags(payload: dict[str, Any]) -> Any:
    """The sync's contact with a top-level `_tags` added to its own (the format reference:
    "Add `_tags` to the output to tag the created contact")."""
    contact = payload["contact"]
    if "_tags" not in payload or not isinstance(contact, dict):
        return contact
    tags = contact_tags(contact.get("_tags"))
    tags += [t for t in contact_tags(payload["_tags"]) if t not in tags]
    return {**contact, "_tags": tags}
