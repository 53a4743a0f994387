"""A local stand-in for an ActiveCampaign account's v3 API (loopback only), written from the
API's documentation, independently of the runtime's own account code: the parity tests compare
what the runtime does to it with what it does to the sandbox.

Endpoints: contact/sync, tags (search, create), contactTags, fields (limit/offset pages),
accounts (search, create, update), accountContacts, deals (create, update), customObjects
records (upsert by externalId), users, dealGroups, dealStages. Every request needs the
`Api-Token` header (else 403). What the API refuses it refuses with 422 and
`{"errors": [{"title", "detail", "code", "source": {"pointer"}}]}`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loopback import Loopback, QuietHandler

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TOKEN = "ac-SECRET-token-123"  # the fake account's API token in the tests


def error(title: str, code: str, pointer: str) -> dict[str, Any]:
    return {"errors": [{"title": title, "detail": "", "code": code,
                        "source": {"pointer": pointer}}]}


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class FakeAccount:
    token: str
    page_cap: int = 100  # the most items a listing page holds
    fail_next: list[int] = field(default_factory=list)  # statuses to answer first (429, ...)
    seen: list[Seen] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by lower-case email
    tags: list[dict[str, str]] = field(default_factory=list)
    contact_tags: list[tuple[str, str]] = field(default_factory=list)
    fields: list[dict[str, str]] = field(default_factory=lambda: [
        {"id": "1", "title": "Company", "perstag": "COMPANY", "type": "text"},
        {"id": "2", "title": "Birthday", "perstag": "BIRTHDAY", "type": "date"}])
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    account_contacts: list[dict[str, str]] = field(default_factory=list)
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> str:
        self.ids[kind] = self.ids.get(kind, 0) + 1
        return str(self.ids[kind])

    def calls(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    # ------------------------------------------------------------------ the API

    def answer(self, method: str, path: str, query: dict[str, str], body: Any
               ) -> tuple[int, Any]:
        route = path.removeprefix("/api/3/")
        body = body if isinstance(body, dict) else {}
        if method == "POST" and route == "contact/sync":
            return self.contact_sync(body.get("contact") or {})
        if method == "GET" and route == "tags":
            search = query.get("search", "").casefold()
            found = [t for t in self.tags if search in t["tag"].casefold()]
            return 200, {"tags": found, "meta": {"total": str(len(found))}}
        if method == "POST" and route == "tags":
            name = str((body.get("tag") or {}).get("tag") or "")
            if not name:
                return 422, error("Tag name is required.", "field_missing", "/data/attributes/tag")
            if any(t["tag"].casefold() == name.casefold() for t in self.tags):
                return 422, error("Duplicate tag.", "duplicate", "/data/attributes/tag")
            tag = {"id": self.next_id("tag"), "tag": name, "tagType": "contact"}
            self.tags.append(tag)
            return 201, {"tag": tag}
        if method == "POST" and route == "contactTags":
            link = body.get("contactTag") or {}
            pair = (str(link.get("contact")), str(link.get("tag")))
            if pair[0] not in {c["id"] for c in self.contacts.values()}:
                return 404, {"message": "No Result found for Contact"}
            if pair[1] not in {t["id"] for t in self.tags}:
                return 404, {"message": "No Result found for Tag"}
            if pair not in self.contact_tags:
                self.contact_tags.append(pair)
            return 201, {"contactTag": {"id": str(self.contact_tags.index(pair) + 1),
                                        "contact": pair[0], "tag": pair[1]}}
        if method == "GET" and route in ("fields", "users", "dealGroups", "dealStages"):
            items = {"fields": self.fields,
                     "users": [{"id": "1", "username": "admin", "firstName": "Admin",
                                "lastName": "User"}],
                     "dealGroups": [{"id": "1", "title": "Sales Pipeline"}],
                     "dealStages": [{"id": "1", "title": "To Contact", "group": "1"},
                                    {"id": "2", "title": "Qualified", "group": "1"}]}[route]
            limit = min(int(query.get("limit", 20)), self.page_cap)
            offset = int(query.get("offset", 0))
            return 200, {route: items[offset:offset + limit],
                         "meta": {"total": str(len(items))}}
        if method == "GET" and route == "accounts":
            search = query.get("search", "").casefold()
            found = [a for a in self.accounts.values() if search in a["name"].casefold()]
            return 200, {"accounts": found, "meta": {"total": str(len(found))}}
        if method in ("POST", "PUT") and route.startswith("accounts"):
            return self.account(route, body.get("account") or {})
        if method == "POST" and route == "accountContacts":
            link = {k: str(v) for k, v in (body.get("accountContact") or {}).items()}
            if any(x["contact"] == link.get("contact") for x in self.account_contacts):
                return 422, error("Contact is already associated with an account.",
                                  "duplicate", "/data/attributes/contact")
            link["id"] = self.next_id("accountContact")
            self.account_contacts.append(link)
            return 201, {"accountContact": link}
        if method in ("POST", "PUT") and route.startswith("deals"):
            return self.deal(route, body.get("deal") or {})
        if method == "POST" and route.startswith("customObjects/records/"):
            schema = route.rsplit("/", 1)[1]
            record = body.get("record") or {}
            key = (schema, str(record.get("externalId")))
            stored = self.records.setdefault(key, {"id": self.next_id("record")})
            stored.update({"externalId": key[1],
                           "fields": {f["id"]: f["value"] for f in record.get("fields", [])}})
            return 200, {"record": stored}
        return 404, {"message": f"No Result found for route {method} {path}"}

    def contact_sync(self, given: dict[str, Any]) -> tuple[int, Any]:
        email = given.get("email")
        if email in (None, ""):
            return 422, error("Email address is required.", "field_missing",
                              "/data/attributes/email")
        if not isinstance(email, str) or not EMAIL.fullmatch(email):
            return 422, error("Contact Email Address is not valid.", "email_invalid",
                              "/data/attributes/email")
        contact = self.contacts.setdefault(email.lower(), {
            "id": self.next_id("contact"), "email": email, "fieldValues": {}})
        for key in ("firstName", "lastName", "phone"):
            if key in given:
                contact[key] = given[key]
        for item in given.get("fieldValues") or ():
            contact["fieldValues"][str(item["field"])] = item["value"]
        return 201, {"contact": {k: v for k, v in contact.items() if k != "fieldValues"},
                     "fieldValues": [{"field": k, "value": v}
                                     for k, v in contact["fieldValues"].items()]}

    def account(self, route: str, given: dict[str, Any]) -> tuple[int, Any]:
        if route == "accounts":
            if not given.get("name"):
                return 422, error("Account name is required.", "field_missing",
                                  "/data/attributes/name")
            account = {"id": self.next_id("account")}
        else:
            account = self.accounts.get(route.rsplit("/", 1)[1], {})
            if not account:
                return 404, {"message": "No Result found for Account"}
        account.update(given)
        self.accounts[account["id"]] = account
        return 201 if route == "accounts" else 200, {"account": account}

    def deal(self, route: str, given: dict[str, Any]) -> tuple[int, Any]:
        if route != "deals":
            deal = self.deals.get(route.rsplit("/", 1)[1])
            if deal is None:
                return 404, {"message": "No Result found for Deal"}
            deal.update(given)
            return 200, {"deal": deal}
        problems = []
        if not given.get("title"):
            problems.append(("Deal title is required.", "field_missing", "title"))
        if not given.get("contact") and not given.get("account"):
            problems.append(("A deal needs a contact or an account.", "field_missing",
                             "contact"))
        if not str(given.get("value", "")).isdigit():
            problems.append(("Deal value must be a whole number of cents, 0 or more.",
                             "field_invalid", "value"))
        if not isinstance(given.get("currency"), str) or len(given["currency"]) != 3:
            problems.append(("Deal currency must be a 3-letter ISO code, e.g. usd.",
                             "field_invalid", "currency"))
        if not given.get("group") and not given.get("stage"):
            problems.append(("A deal needs a pipeline (group) or a stage.", "field_missing",
                             "group"))
        if problems:
            return 422, {"errors": [{"title": t, "detail": "", "code": c,
                                     "source": {"pointer": f"/data/attributes/{p}"}}
                                    for t, c, p in problems]}
        deal = {**given, "id": self.next_id("deal")}
        self.deals[deal["id"]] = deal
        return 201, {"deal": deal}

    # ------------------------------------------------------------------ views for tests

    def contact_tags_of(self, email: str) -> list[str]:
        contact_id = self.contacts[email.lower()]["id"]
        names = {t["id"]: t["tag"] for t in self.tags}
        return [names[tag] for contact, tag in self.contact_tags if contact == contact_id]


class FakeActiveCampaign(Loopback):
    def __init__(self, token: str = TOKEN) -> None:
        self.account = FakeAccount(token)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        account = self.account

        class Handler(QuietHandler):
            def handle_any(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = self.json_body()
                if parts.path == "/me":  # parity.yaml's connection check (verify_url)
                    self.reply(200, {"ok": True})
                    return
                with account.lock:
                    account.seen.append(Seen(self.command, parts.path, query, body,
                                             dict(self.headers.items())))
                    if self.headers.get("Api-Token") != account.token:
                        status, answer = 403, {"message": "You are not authorized to access "
                                               "this resource"}
                    elif account.fail_next:
                        status, answer = account.fail_next.pop(0), {"message": "slow down"}
                    else:
                        status, answer = account.answer(self.command, parts.path, query, body)
                headers = {"Retry-After": "0"} if status == 429 else None
                self.reply(status, answer, headers)

            do_GET = do_POST = do_PUT = handle_any

        return Handler
