"""A local stand-in for a PayPal-style checkout provider, used to record cassette.yaml and to
deliver signed webhooks to `manifest-runtime serve` (see README.md). It is not PayPal: the
API shapes follow PayPal's REST API where the manifest reads them (OAuth2 token endpoint,
userinfo, webhook event types, webhook registration), but the notifications are posted the
way this example's manifest expects: form-encoded (`event_type`, `event_id`, `create_time`
and `resource`, a field carrying the resource as JSON text), signed with HMAC-SHA256 of the
raw body in the `paypal-transmission-sig` header, and a registration challenge
(`GET ?challenge=...`) answered with the HMAC of the challenge.

    python examples/paypal-checkout/fake_api.py serve 8769        # the API, for --record
    python examples/paypal-checkout/fake_api.py challenge URL     # what a registration sends
    python examples/paypal-checkout/fake_api.py deliver URL events.jsonl [--bad-signature]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

# The app's OAuth2 client (the manifest's auth configuration holds the same demo values)
CLIENT_ID = "demo-paypal-client-id"
CLIENT_SECRET = "demo-paypal-client-secret"
REFRESH_TOKEN = "demo-paypal-refresh-token"  # what the recording's credentials file gave
# The app's webhook signing secret (App Studio: from the provider's developer portal, kept
# in the app's configuration like client_secret; the manifest's !sha uses it)
WEBHOOK_SECRET = "demo-webhook-signing-secret"
EVENT_TYPES = [
    {"name": "CHECKOUT.ORDER.APPROVED", "description": "A buyer approved a checkout order"},
    {"name": "CHECKOUT.ORDER.COMPLETED", "description": "A checkout order was completed"},
    {"name": "PAYMENT.CAPTURE.COMPLETED", "description": "A payment capture completed"},
    {"name": "PAYMENT.CAPTURE.REFUNDED", "description": "A merchant refunded a capture"},
]
LOCK = threading.Lock()
TOKENS: set[str] = set()
HOOKS: dict[str, dict[str, Any]] = {}


def sign(body: bytes) -> str:
    return hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        with LOCK:
            status, body = self._answer(method, parts.path, raw)
        self._reply(status, body)

    def _answer(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        if method == "POST" and path == "/v1/oauth2/token":
            return self._token(raw)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in TOKENS:
            return 401, {"error": "invalid_token",
                         "error_description": "Token signature verification failed"}
        if method == "GET" and path == "/v1/identity/oauth2/userinfo":
            return 200, {"user_id": "https://www.paypal.com/webapps/auth/identity/user/3LQ7",
                         "name": "Example Garden Supplies",
                         "emails": [{"value": "payments@garden.example", "primary": True}]}
        if method == "GET" and path == "/v1/notifications/webhooks-event-types":
            return 200, {"event_types": EVENT_TYPES}
        if method == "POST" and path == "/v1/notifications/webhooks":
            body = json.loads(raw)
            hook = {"id": f"WH-{len(HOOKS) + 1:04d}-4AB12345CD678901E", "url": body["url"],
                    "event_types": body["event_types"]}
            HOOKS[hook["id"]] = hook
            return 201, hook
        if method == "DELETE" and path.startswith("/v1/notifications/webhooks/"):
            hook_id = path.rsplit("/", 1)[1]
            if HOOKS.pop(hook_id, None) is None:
                return 404, {"name": "INVALID_RESOURCE_ID", "message": f"no webhook {hook_id}"}
            return 204, None
        return 404, {"name": "NOT_FOUND", "message": f"{method} {path}"}

    def _token(self, raw: bytes) -> tuple[int, Any]:
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {basic}":
            return 401, {"error": "invalid_client"}
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "refresh_token" or \
                form.get("refresh_token") != REFRESH_TOKEN:
            return 400, {"error": "invalid_grant"}
        token = "A21AA" + secrets.token_hex(16)
        TOKENS.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 32400,
                     "refresh_token": REFRESH_TOKEN, "scope": "openid email"}

    def _reply(self, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _send(request: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as reply:
        return reply.code, reply.read().decode()


def challenge(url: str) -> None:
    nonce = "c-" + secrets.token_hex(8)
    status, text = _send(urllib.request.Request(f"{url}?{urlencode({'challenge': nonce})}"))
    expected = hmac.new(WEBHOOK_SECRET.encode(), nonce.encode(), hashlib.sha256).hexdigest()
    answered = json.loads(text).get("challenge_response") if status == 200 else None
    print(f"challenge -> {status}: {'verified' if answered == expected else 'WRONG: ' + text}")


def deliver(url: str, events_file: str, bad_signature: bool) -> None:
    """POST each event of the file as a form-encoded, signed notification."""
    with open(events_file, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            event = json.loads(line)
            body = urlencode({"event_id": event["id"], "event_type": event["event_type"],
                              "create_time": event["create_time"],
                              "resource": json.dumps(event["resource"])}).encode()
            signature = "0" * 64 if bad_signature else sign(body)
            status, text = _send(urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "paypal-transmission-sig": signature}))
            print(f"{event['event_type']} {event['id']} -> {status} {text}")


if __name__ == "__main__":
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("serve", [])
    if command == "serve":
        port = int(rest[0]) if rest else 8769
        ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    elif command == "challenge":
        challenge(rest[0])
    elif command == "deliver":
        deliver(rest[0], rest[1], "--bad-signature" in rest)
    else:
        sys.exit(f"unknown command {command!r}: serve, challenge or deliver")
