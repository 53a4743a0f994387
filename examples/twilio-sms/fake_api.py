"""A local stand-in for the parts of the Twilio API that manifest.json calls, used to record
cassette.yaml (see README.md). It is not the real service: the answers follow the resource
shapes Twilio documents, trimmed to what a demo needs.

One server plays both hosts the manifest talks to (record with two --remap entries):

* api.twilio.com/2010-04-01 — `GET /Accounts.json` (the auth's verify_url, and with
  `?Status=active` the Project options), `GET /Accounts/{sid}/IncomingPhoneNumbers.json`,
  `POST /Accounts/{sid}/Messages.json` (form-encoded: To, From or MessagingServiceSid, Body);
* messaging.twilio.com/v1 — `GET /Services`.

Every request needs HTTP Basic auth with the demo Account SID and Auth Token below.

    python examples/twilio-sms/fake_api.py 8766
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# What the recording used; the cassette keeps neither the token nor the Basic header ("***").
ACCOUNT_SID = "AC5ef8732a3c49700934481addd5ce1659"  # the Basic username (not a secret)
AUTH_TOKEN = "demo-twilio-auth-token"                # the Basic password

API = "/2010-04-01"


def _account(sid: str, name: str, status: str, owner: str) -> dict[str, Any]:
    uri = f"{API}/Accounts/{sid}"
    return {
        "sid": sid, "friendly_name": name, "status": status, "type": "Full",
        "owner_account_sid": owner,
        # Twilio lists each account's auth token (the main account's is the one logged in
        # with); the recorder masks the field by name.
        "auth_token": AUTH_TOKEN if sid == ACCOUNT_SID
        else hashlib.sha256(f"token:{sid}".encode()).hexdigest()[:32],
        "date_created": "Thu, 04 Jan 2024 16:20:11 +0000",
        "date_updated": "Thu, 04 Jan 2024 16:20:11 +0000",
        "uri": f"{uri}.json",
        "subresource_uris": {
            "incoming_phone_numbers": f"{uri}/IncomingPhoneNumbers.json",
            "messages": f"{uri}/Messages.json",
        },
    }


SUB_SID = "AC0b1d2e3f405162738495a6b7c8d9e0f1"
ACCOUNTS = [
    _account(ACCOUNT_SID, "Example Garden Supplies", "active", ACCOUNT_SID),
    _account(SUB_SID, "Spring Campaign", "active", ACCOUNT_SID),
    _account("AC9f8e7d6c5b4a39281706f5e4d3c2b1a0", "Old Pilot (closed)", "closed", ACCOUNT_SID),
]


def _number(account: str, sid: str, number: str, name: str, sms: bool) -> dict[str, Any]:
    return {
        "sid": sid, "account_sid": account, "phone_number": number, "friendly_name": name,
        "capabilities": {"voice": True, "sms": sms, "mms": sms, "fax": False},
        "status": "in-use", "api_version": "2010-04-01",
        "uri": f"{API}/Accounts/{account}/IncomingPhoneNumbers/{sid}.json",
    }


NUMBERS = {
    ACCOUNT_SID: [
        _number(ACCOUNT_SID, "PN1f2e3d4c5b6a79880716253443526170", "+12025550142",
                "Store front desk", True),
    ],
    SUB_SID: [
        _number(SUB_SID, "PN2a3b4c5d6e7f80918a2b3c4d5e6f7081", "+12025550173",
                "Spring promo line", True),
        _number(SUB_SID, "PN3c4d5e6f708192a3b4c5d6e7f8091a2b", "+12025550188",
                "Spring voice line (no SMS)", False),
    ],
}

SERVICES = [
    {"sid": "MG4d5e6f708192a3b4c5d6e7f8091a2b3c", "account_sid": ACCOUNT_SID,
     "friendly_name": "Spring newsletter senders", "usecase": "marketing",
     "url": "https://messaging.twilio.com/v1/Services/MG4d5e6f708192a3b4c5d6e7f8091a2b3c"},
]


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message, "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _page_2010(key: str, path: str, items: list[Any], query: dict[str, str]) -> dict[str, Any]:
    size = int(query.get("PageSize", "50"))
    first = f"{path}?PageSize={size}&Page=0"
    return {key: items[:size], "page": 0, "page_size": size, "start": 0,
            "end": max(0, min(size, len(items)) - 1), "uri": first,
            "first_page_uri": first, "previous_page_uri": None, "next_page_uri": None}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._reply(*self._answer("GET", {}))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        self._reply(*self._answer("POST", form))

    def _answer(self, method: str, form: dict[str, str]) -> tuple[int, Any]:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            status, body = _error(401, 20003, "Authenticate")
            return status, {**body, "detail": "Your AccountSid or AuthToken was incorrect."}
        known = {a["sid"] for a in ACCOUNTS}
        segments = path.strip("/").split("/")
        if method == "GET" and path == f"{API}/Accounts.json":
            wanted = query.get("Status")
            accounts = [a for a in ACCOUNTS if wanted in (None, a["status"])]
            return 200, _page_2010("accounts", path, accounts, query)
        if method == "GET" and path == "/v1/Services":
            size = int(query.get("PageSize", "50"))
            url = f"https://messaging.twilio.com/v1/Services?PageSize={size}&Page=0"
            return 200, {"services": SERVICES[:size], "meta": {
                "page": 0, "page_size": size, "first_page_url": url, "url": url,
                "previous_page_url": None, "next_page_url": None, "key": "services"}}
        if len(segments) == 4 and segments[:2] == ["2010-04-01", "Accounts"]:
            sid, resource = segments[2], segments[3]
            if sid not in known:
                return _error(404, 20404, f"The requested resource {path} was not found")
            if method == "GET" and resource == "IncomingPhoneNumbers.json":
                return 200, _page_2010("incoming_phone_numbers", path, NUMBERS.get(sid, []),
                                       query)
            if method == "POST" and resource == "Messages.json":
                return self._message(sid, form)
        return _error(404, 20404, f"The requested resource {path} was not found")

    def _message(self, account: str, form: dict[str, str]) -> tuple[int, Any]:
        to, sender = form.get("To", ""), form.get("From", "")
        service, body = form.get("MessagingServiceSid", ""), form.get("Body", "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if sender and sender not in {n["phone_number"] for n in NUMBERS.get(account, [])
                                     if n["capabilities"]["sms"]}:
            return _error(400, 21606, f"The From phone number {sender} is not a valid, "
                          "SMS-capable inbound phone number or short code for your account.")
        if service and service not in {s["sid"] for s in SERVICES}:
            return _error(400, 21705, "The Messaging Service Sid is invalid.")
        sid = "SM" + hashlib.sha256(f"{account}|{to}|{sender}|{service}|{body}".encode()
                                    ).hexdigest()[:32]
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        uri = f"{API}/Accounts/{account}/Messages/{sid}"
        return 201, {
            "sid": sid, "account_sid": account, "api_version": "2010-04-01",
            "to": to, "from": sender or None, "messaging_service_sid": service or None,
            "body": body, "status": "queued" if sender else "accepted",
            "direction": "outbound-api", "num_segments": "1", "num_media": "0",
            "price": None, "price_unit": "USD", "error_code": None, "error_message": None,
            "date_created": now, "date_updated": now, "date_sent": None,
            "uri": f"{uri}.json", "subresource_uris": {"media": f"{uri}/Media.json"},
        }

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8766
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
