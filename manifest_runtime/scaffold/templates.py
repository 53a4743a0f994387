"""The files `manifest-runtime init` writes, as data: a manifest of one of three kinds with
`_comment` notes, and the answers, sample input, test cases and sample HTTP answers (a
cassette) that make it set up, run and pass its tests offline.

Every value here is what the generated manifest's own commands produce from the sample
cassette; tests/author/test_init.py checks each kind end to end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["inbound-webhook", "inbound-polling", "outbound"]
KINDS: tuple[Kind, ...] = ("inbound-webhook", "inbound-polling", "outbound")
KIND_HELP = {
    "inbound-webhook": "the app POSTs events to a webhook; they become ActiveCampaign contacts",
    "inbound-polling": "ActiveCampaign asks the app's API for new records on a schedule",
    "outbound": "an automation step sends each contact to the app's API",
}


@dataclass(frozen=True)
class Answers:
    """What `init` asks (or defaults)."""

    name: str  # the slug: workflow and auth names are made from it
    kind: Kind = "inbound-webhook"
    brand: str = ""  # "Acme"; default: from the name
    base_url: str = "https://api.example.com/v1"

    @property
    def title(self) -> str:
        return self.brand or " ".join(p.capitalize() for p in re.split(r"[-_ ]+", self.name)
                                      if p)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def manifest(a: Answers) -> dict[str, Any]:
    auth = f"{a.name}-token"
    out: dict[str, Any] = {
        "_comment": [
            f"{a.title}: an ActiveCampaign App Studio manifest written by `manifest-runtime "
            "init`",
            f"({a.kind}: {KIND_HELP[a.kind]}).",
            "Check it: manifest-runtime validate THIS_FILE; see every command: manifest-runtime "
            "eval THIS_FILE --list",
        ],
        "$version": "2",
        "api": {
            "_comment": "Every !http `path` is joined to base_url; `url` takes a full URL.",
            "base_url": a.base_url,
        },
        "auth": {
            "_comment": "How requests are signed. token: the header_key header carries the "
            "token; verify_url is called once by `setup` to check the credentials.",
            auth: {
                "type": "token",
                "header_key": "Authorization",
                "verify_url": f"{a.base_url}/me",
                "defined_fields": {"token": {
                    "label": "API token", "placeholder": f"Paste your {a.title} API token",
                    "help_text": f"In {a.title}: Settings > API, create a token and copy it."}},
            },
        },
    }
    connect = {
        "label": f"Connect {a.title}",
        "describe_connection": {"!pipe": [
            {"!http": {"method": "GET", "path": "/me"}},
            {"!jq": ".body | {account_id: (.id | tostring), description: .name}"},
        ]},
    }
    if a.kind == "outbound":
        out["workflows"] = [_outbound(a, auth, connect)]
        return out
    if a.kind == "inbound-webhook":
        out["data_intake"] = [{
            "_comment": "The webhook: `serve` calls create with ${webhook.url} and delete on "
            "stop; !save keeps the id for delete.",
            "name": "contact_created",
            "type": "webhook",
            "scope": "workflow",
            "create": {"!pipe": [
                {"!http": {"method": "POST", "path": "/webhooks",
                           "body": {"url": "${webhook.url}", "event": "contact.created"}}},
                {"!jq": "{webhook_id: .body.id}"},
                {"!save": {"scope": "workflow"}},
            ]},
            "delete": {"!http": {"method": "DELETE",
                                 "path": "/webhooks/${data.workflow.webhook_id}"}},
        }]
    else:
        out["data_intake"] = [{
            "_comment": "Polling: initial_setup once, then per cycle request until iterate is "
            "false; ${polling_state} is kept between requests and cycles.",
            "name": "new_contacts",
            "type": "polling",
            "initial_setup": {"!jq": "{polling_state: {page: 1}}"},
            "request": {"!pipe": [
                {"!http": {"method": "GET", "path": "/contacts?page=${polling_state.page}"}},
                {"!jq": "{results: .body.contacts, iterate: (.body.next != null), "
                        "polling_state: {page: (.body.next // 1)}}"},
            ]},
        }]
    out["workflows"] = [_inbound(a, auth, connect)]
    return out


def _inbound(a: Answers, auth: str, connect: dict[str, Any]) -> dict[str, Any]:
    polling = a.kind == "inbound-polling"
    setup: dict[str, Any] = {
        "_comment": "What the user does in App Studio, in order; `manifest-runtime setup` "
        "walks it (answers.yaml answers it headless).",
        "connect": connect,
        "select": {
            "label": "Options",
            "form_fields": [{"label": "Tag new contacts with", "id": "tag", "type": "text",
                             "required": False}],
            "describe_selection": {"resource_id": {"!jq": "\"all\""},
                                   "display": {"!jq": "\"All contacts\""}},
        },
        "map": {
            "label": f"Map {a.title} fields to ActiveCampaign",
            "describe_source": {"label": a.title, "options": [
                {"title": "Email", "id": "email", "required": True},
                {"title": "First name", "id": "first_name"},
                {"title": "Last name", "id": "last_name"},
            ]},
            "describe_target": {"label": "ActiveCampaign",
                                "options": {"!resource": "ActiveCampaignContact.fields"}},
        },
    }
    if polling:
        setup["schedule"] = {"label": "Schedule", "description": "How often to look for new "
                             "contacts", "import_options": [{"label": "Recurring",
                                                             "type": "recurring"}],
                             "frequency": 1800}
    tags = ("{_tags: ([\"" + a.name + "\"] + (if \"${custom_data.tag.value | default}\" == "
            "\"\" then [] else [\"${custom_data.tag.value | default}\"] end))}")
    return {
        "name": f"{a.name}-contacts",
        "label": f"{a.title} - Sync new contacts",
        "description": f"Create or update an ActiveCampaign contact for each new {a.title} "
        "contact.",
        "type": "generic",
        "auth": auth,
        "data_intake": "new_contacts" if polling else "contact_created",
        "setup": setup,
        "data_pipeline": {
            "_comment": f"Each {'polling result' if polling else 'webhook payload'} goes "
            "source -> transform (the saved mapping) -> target.",
            "source": {"!jq": ("." if polling else ".data")
                       + " | {email, first_name, last_name} + " + tags},
            "target": {"!resource": "ActiveCampaignContact"},
        },
    }


def _outbound(a: Answers, auth: str, connect: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"{a.name}-add-subscriber",
        "label": f"{a.title} - Add a subscriber",
        "description": f"Add the contact to a {a.title} list.",
        "type": "automations",
        "auth": auth,
        "setup": {
            "_comment": "What the user does in App Studio, in order; `manifest-runtime setup` "
            "walks it (answers.yaml answers it headless).",
            "connect": connect,
            "select": {
                "label": "Choose a list",
                "form_fields": [{
                    "label": "List", "id": "list", "type": "dropdown",
                    "placeholder": "Select a list",
                    "options": {"!pipe": [
                        {"!http": {"method": "GET", "path": "/lists"}},
                        {"!jq": "[.body.lists[] | {display: .name, value: (.id | tostring)}]"},
                    ]},
                }],
                "describe_selection": {"resource_id": {"!jq": "${custom_data.list.value}"},
                                       "display": {"!jq": "${custom_data.list.display}"}},
            },
            "map": {
                "label": f"Map ActiveCampaign fields to {a.title}",
                "describe_source": {"label": "ActiveCampaign",
                                    "options": {"!resource": "ActiveCampaignContact.fields"}},
                "describe_target": {"label": a.title, "options": [
                    {"title": "Email", "id": "email", "required": True},
                    {"title": "First name", "id": "first_name"},
                ]},
            },
        },
        "data_pipeline": {
            "_comment": "source is the contact the automation processes; the mapping renames "
            "its fields; target sends it.",
            "source": {"!resource": "ActiveCampaignContact"},
            "target": {"!http": {
                "method": "POST", "path": "/lists/${custom_data.list.value}/subscribers",
                "body": {"email": "${piped_content.0.email}",
                         "first_name": "${piped_content.0.first_name}"}}},
        },
    }


# ---------------------------------------------------------------- the files around it

PEOPLE = [("ada@example.com", "Ada", "Lovelace"), ("grace@example.com", "Grace", "Hopper")]


def answers(a: Answers) -> dict[str, Any]:
    if a.kind == "outbound":
        return {"workflow": f"{a.name}-add-subscriber", "custom_data": {"list": "12"},
                "mapping": {"email": "email", "firstName": "first_name"}}
    out: dict[str, Any] = {"workflow": f"{a.name}-contacts", "custom_data": {"tag": "new"},
                           "mapping": {"email": "email", "first_name": "firstName",
                                       "last_name": "lastName"}}
    if a.kind == "inbound-polling":
        out["schedule"] = {"import_option": "recurring", "frequency": 1800}
    return out


def sample_records(a: Answers) -> list[dict[str, Any]]:
    """One JSON line each: webhook payloads, polling results, or contacts (outbound)."""
    if a.kind == "outbound":
        return [{"email": e, "firstName": f, "lastName": last} for e, f, last in PEOPLE]
    people = [{"email": e, "first_name": f, "last_name": last} for e, f, last in PEOPLE]
    if a.kind == "inbound-polling":
        return people
    return [{"event": "contact.created", "data": p} for p in people]


def cases(a: Answers, manifest_name: str) -> dict[str, Any]:
    first = sample_records(a)[0]
    head: list[dict[str, Any]]
    if a.kind == "outbound":
        w = f"/workflows/{a.name}-add-subscriber"
        head = [
            {"name": "source is the contact being processed",
             "pointer": f"{w}/data_pipeline/source", "roots": {"contact": first},
             "expect": first},
            {"name": "list options come from GET /lists",
             "pointer": f"{w}/setup/select/form_fields/list/options",
             "cassette": "cassette.yaml",
             "expect": [{"display": "Newsletter", "value": "12"},
                        {"display": "Customers", "value": "13"}]},
        ]
    else:
        w = f"/workflows/{a.name}-contacts"
        body = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
        head = [
            {"name": "source flattens a payload and tags it",
             "pointer": f"{w}/data_pipeline/source", "input": first,
             "custom_data": {"tag": "vip"}, "expect": {**body, "_tags": [a.name, "vip"]}},
            {"name": "a payload that is not an object fails",
             "pointer": f"{w}/data_pipeline/source", "input": "not an object",
             "expect_error": "jq-runtime"},
        ]
        if a.kind == "inbound-polling":
            head.append({"name": "a request returns a page of results",
                         "pointer": "/data_intake/new_contacts/request",
                         "roots": {"polling_state": {"page": 1}},
                         "cassette": "cassette.yaml",
                         "expect": {"results": sample_records(a), "iterate": False,
                                    "polling_state": {"page": 1}}})
    head.append({"name": "connect describes the account",
                 "pointer": f"{w}/setup/connect/describe_connection",
                 "cassette": "cassette.yaml",
                 "expect": {"account_id": "1001", "description": f"{a.title} demo account"}})
    return {"cases": head}


def cassette(a: Answers) -> dict[str, Any]:
    """Sample answers of the API for every request the manifest makes here (replayed in
    order), so everything runs offline until you record the real API's."""
    base = a.base_url.rstrip("/")

    def exchange(method: str, path: str, body: Any, status: int, answer: Any,
                 query: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"request": {"method": method, "url": base + path, "query": query or {},
                            "headers": {"Authorization": "***"}, "body": body},
                "response": {"status": status,
                             "headers": {"content-type": "application/json"}, "body": answer}}

    me = exchange("GET", "/me", None, 200, {"id": 1001, "name": f"{a.title} demo account"})
    out = [me, me]  # setup: the credentials check (verify_url), then describe_connection
    if a.kind == "outbound":
        out.append(exchange("GET", "/lists", None, 200, {"lists": [
            {"id": 12, "name": "Newsletter"}, {"id": 13, "name": "Customers"}]}))
        for email, first, _ in PEOPLE:
            out.append(exchange("POST", "/lists/12/subscribers",
                                {"email": email, "first_name": first}, 201,
                                {"id": 500 + len(out), "email": email}))
    elif a.kind == "inbound-polling":
        out.append(exchange("GET", "/contacts", None, 200,
                            {"contacts": sample_records(a), "next": None}, {"page": "1"}))
    return {"version": 1, "interactions": out}
