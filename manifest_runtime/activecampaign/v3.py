"""A real ActiveCampaign account through its v3 API (`--ac-url URL --ac-token TOKEN`).

Every call goes through the run's HTTP client (`AccountTransport`, http/client.py
`send_account`): the same attempts, retries, remaps, `--record/--replay`, `--trace` and
redaction as `!http`, with the `Api-Token` header and a token bucket of ActiveCampaign's
documented 5 requests per second per account.

    contact            POST /api/3/contact/sync {contact: {email, ..., fieldValues}}
    its tags           GET /api/3/tags?search=  (created when missing: POST /api/3/tags),
                       POST /api/3/contactTags; tag ids cached for the run
    custom fields      GET /api/3/fields (limit/offset pages; cached for the run)
    accounts           GET /api/3/accounts?search=, POST or PUT /api/3/accounts,
                       POST /api/3/accountContacts
    deals              POST /api/3/deals, PUT /api/3/deals/{id}
    custom objects     POST /api/3/customObjects/records/{schemaId}
    owners, pipelines, stages (map options): GET /api/3/users, /dealGroups, /dealStages

What the API refuses fails the record with its own message (errors.py); the rules shared
with the sandbox (splitting a contact, sync's partial failures, ignored keys) are rules.py's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..http.ratelimit import Limit, RateLimiter, TokenBucket
from ..http.types import HttpRequest, HttpResponse
from .errors import EMAIL_HINT, api_rejected
from .rules import AccountRules, ContactData, fail, plain_id
from .storage import CustomField

REQUESTS_PER_SECOND = 5  # ActiveCampaign's documented limit per account
PAGE = 100  # items per page of a listing (the API's maximum)
MAX_PAGES = 100


class AccountTransport(Protocol):
    """How the account's calls are sent (HttpClient.send_account)."""

    def send_account(self, request: HttpRequest, auth_headers: dict[str, str],
                     limiter: RateLimiter) -> HttpResponse: ...


def account_limiter(requests_per_second: float | None = None,
                    clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] = time.sleep) -> RateLimiter:
    """One bucket for reads and writes alike: the limit is per account (a burst of as many
    requests as a second allows, then one every 1/rate s)."""
    rate = REQUESTS_PER_SECOND if requests_per_second is None else requests_per_second
    bucket = TokenBucket(Limit(max(1, int(rate)), 1.0), clock, sleep)
    return RateLimiter([bucket], [bucket])


class V3Account(AccountRules):
    """An ActiveCampaign account reached through its v3 API (implements `ActiveCampaign`).
    Safe to share between the threads of a run."""

    def __init__(self, url: str, token: str, transport: AccountTransport,
                 contact: dict[str, Any] | None = None,
                 limiter: RateLimiter | None = None) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Api-Token": token}
        self._transport = transport
        self.contact = contact
        self._limiter = limiter or account_limiter()
        self._lock = threading.RLock()
        self._fields: tuple[CustomField, ...] | None = None
        self._tag_ids: dict[str, str] = {}  # tag name (casefolded) -> id
        self._options: dict[str, list[dict[str, Any]]] = {}

    # ------------------------------------------------------------------ calls

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None,
              body: Any = None) -> HttpResponse:
        request = HttpRequest(method=method.upper(), url=f"{self.url}/{path.lstrip('/')}",
                              target="activecampaign", params=dict(params or {}),
                              headers={"Accept": "application/json"}, json=body)
        return self._transport.send_account(request, self._headers, self._limiter)

    def _ok(self, method: str, path: str, what: str, params: dict[str, Any] | None = None,
            body: Any = None, code: str = "ac-rejected") -> Any:
        response = self._call(method, path, params, body)
        if 200 <= response.status < 300:
            return response.body if isinstance(response.body, dict) else {}
        code = _code(response.body, code)
        raise api_rejected(response.status, response.body, what,
                           EMAIL_HINT if code == "contact-email" else None, code)

    def _listing(self, path: str, key: str, params: dict[str, Any] | None = None
                 ) -> list[dict[str, Any]]:
        """Every item of a paged listing (limit/offset): until `meta.total` items are in (a
        server may give fewer per page than asked), else until a short page; an empty page
        always ends it."""
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            body = self._ok("GET", path, f"the listing {path}",
                            {**(params or {}), "limit": PAGE, "offset": len(items)})
            page = [x for x in body.get(key) or () if isinstance(x, dict)]
            items += page
            total = _int((body.get("meta") or {}).get("total"))
            done = len(items) >= total if total is not None else len(page) < PAGE
            if not page or done:
                break
        return items

    def api(self, method: str, path: str, params: dict[str, Any] | None, body: Any
            ) -> HttpResponse:
        """`!http target: activecampaign`: the call as given, the answer as it came."""
        return self._call(method, path, params, body)

    # ------------------------------------------------------------------ fields

    @property
    def custom_fields(self) -> tuple[CustomField, ...]:
        with self._lock:
            if self._fields is None:
                self._fields = tuple(
                    CustomField(str(f.get("id")), str(f.get("title") or ""),
                                str(f.get("perstag") or ""), str(f.get("type") or "text"))
                    for f in self._listing("api/3/fields", "fields"))
            return self._fields

    def _cached(self, name: str, path: str, key: str, title: Any) -> list[dict[str, Any]]:
        with self._lock:
            if name not in self._options:
                self._options[name] = [{"id": str(x.get("id")), "title": title(x)}
                                       for x in self._listing(path, key)]
            return [dict(x) for x in self._options[name]]

    def user_options(self) -> list[dict[str, Any]]:
        def title(u: dict[str, Any]) -> str:
            name = f"{u.get('firstName') or ''} {u.get('lastName') or ''}".strip()
            return name or str(u.get("username") or u.get("email") or u.get("id"))

        return self._cached("users", "api/3/users", "users", title)

    def pipeline_options(self) -> list[dict[str, Any]]:
        return self._cached("pipelines", "api/3/dealGroups", "dealGroups",
                            lambda g: str(g.get("title") or g.get("id")))

    def stage_options(self) -> list[dict[str, Any]]:
        return self._cached("stages", "api/3/dealStages", "dealStages",
                            lambda s: str(s.get("title") or s.get("id")))

    # ------------------------------------------------------------------ writes

    def _write_contact(self, data: ContactData) -> dict[str, Any]:
        contact: dict[str, Any] = {"email": data.email, **data.fields}
        if data.field_values:
            contact["fieldValues"] = [{"field": k, "value": v}
                                      for k, v in data.field_values.items()]
        body = self._ok("POST", "api/3/contact/sync", "the contact", body={"contact": contact})
        answered = body.get("contact") if isinstance(body.get("contact"), dict) else {}
        contact_id = answered.get("id")
        if contact_id is None:
            raise fail("ac-answer", "ActiveCampaign's contact/sync answer has no contact id",
                       "--trace shows the answer")
        for tag in data.tags:
            self._ok("POST", "api/3/contactTags", f"tag {tag!r} on the contact",
                     body={"contactTag": {"contact": str(contact_id), "tag": self._tag_id(tag)}})
        return {"id": plain_id(contact_id), "email": answered.get("email", data.email),
                **data.fields, "fieldValues": dict(data.field_values), "tags": list(data.tags)}

    def _tag_id(self, tag: str) -> str:
        """The id of the account's tag of this name (names compare without case, as
        ActiveCampaign's do), created when missing; cached for the run."""
        key = tag.casefold()
        with self._lock:  # one lookup (and one creation) per tag, whatever the threads
            if key not in self._tag_ids:
                body = self._ok("GET", "api/3/tags", f"the lookup of tag {tag!r}",
                                {"search": tag})
                found = [t for t in body.get("tags") or ()
                         if isinstance(t, dict) and str(t.get("tag", "")).casefold() == key]
                if found:
                    self._tag_ids[key] = str(found[0].get("id"))
                else:
                    made = self._ok("POST", "api/3/tags", f"the new tag {tag!r}", body={
                        "tag": {"tag": tag, "tagType": "contact", "description": ""}})
                    self._tag_ids[key] = str((made.get("tag") or {}).get("id"))
            return self._tag_ids[key]

    def _write_account(self, account: dict[str, Any]) -> Any:
        name = account["name"]
        body = self._ok("GET", "api/3/accounts", f"the lookup of account {name!r}",
                        {"search": name})
        same = [a for a in body.get("accounts") or ()
                if isinstance(a, dict) and a.get("name") == name]
        if same:
            account_id = same[0].get("id")
            self._ok("PUT", f"api/3/accounts/{account_id}", f"account {name!r}",
                     body={"account": account})
        else:
            made = self._ok("POST", "api/3/accounts", f"the new account {name!r}",
                            body={"account": account})
            account_id = (made.get("account") or {}).get("id")
        return plain_id(account_id)

    def _link_account_contact(self, account_id: Any, contact_id: Any) -> Any:
        made = self._ok("POST", "api/3/accountContacts", "the contact's link to its account",
                        body={"accountContact": {"contact": str(contact_id),
                                                 "account": str(account_id)}})
        return plain_id((made.get("accountContact") or {}).get("id"))

    def _write_deal(self, deal: dict[str, Any], existing: int | None) -> Any:
        sent = {k: str(v) if k in ("contact", "account") and v is not None else v
                for k, v in deal.items()}
        if existing is not None:
            response = self._call("PUT", f"api/3/deals/{existing}", body={"deal": sent})
            if response.status == 404:
                raise fail("deal-not-found", f"deal {existing} does not exist")
            if not 200 <= response.status < 300:
                raise api_rejected(response.status, response.body, f"deal {existing}",
                                   code="ac-rejected")
            return existing
        made = self._ok("POST", "api/3/deals", "the deal", body={"deal": sent})
        return plain_id((made.get("deal") or {}).get("id"))

    def _write_custom_object(self, record: dict[str, Any]) -> Any:
        schema = record["schemaId"]
        fields = [{"id": k, "value": v} for k, v in record.items()
                  if k not in ("schemaId", "externalId", "relationships")]
        sent: dict[str, Any] = {"externalId": str(record["externalId"]), "fields": fields}
        if "relationships" in record:
            sent["relationships"] = record["relationships"]
        self._ok("POST", f"api/3/customObjects/records/{schema}",
                 f"custom object record {record['externalId']!r}", body={"record": sent})
        return record["externalId"]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _code(body: Any, default: str) -> str:
    """`contact-email` when the API points at the email (as the sandbox's code), else
    `default`."""
    errors = body.get("errors") if isinstance(body, dict) else None
    for item in errors if isinstance(errors, list) else ():
        source = item.get("source") if isinstance(item, dict) else None
        if isinstance(source, dict) and str(source.get("pointer", "")).endswith("/email"):
            return "contact-email"
    return default
