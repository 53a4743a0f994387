"""Every bundled example (and ActiveCampaign's published config) validates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from manifest_runtime.compile import load_and_compile

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = sorted(ROOT.glob("examples/*/manifest.*"))
PUBLISHED = ROOT.parent / "shared" / "reference" / "published" / "twilio-sms-outbound.json"


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.parent.name)
def test_example_is_valid(manifest: Path) -> None:
    compiled = load_and_compile(str(manifest))
    errors = [d for d in compiled.diagnostics if d.severity == "error"]
    assert errors == []


def test_bundled_twilio_is_the_published_config_unchanged() -> None:
    if not PUBLISHED.exists():
        pytest.skip("shared/ reference not beside the checkout")
    assert (ROOT / "examples/twilio-sms/manifest.json").read_bytes() == PUBLISHED.read_bytes()


def test_twilio_http_steps_read_the_body_where_their_programs_do() -> None:
    compiled = load_and_compile(str(ROOT / "examples/twilio-sms/manifest.json"))
    notes = {d.pointer: d.message for d in compiled.diagnostics if d.code == "http-output"}
    options = "/workflows/0/setup/select/form_fields/1/options/!pipe"
    assert notes[f"{options}/0"].startswith("!http output: body")
    assert notes[f"{options}/2"].startswith("!http output: body")
    target = "/workflows/0/data_pipeline/target/!pipe/1/!switch/cases/0"
    assert notes[target].startswith("!http output: wrapped")


def test_activetrail_cassette_replays_offline(capsys: pytest.CaptureFixture[str]) -> None:
    """The example's cassette answers its connect step and its paged group options (three
    pages: 100, 30, then an empty page ends the paging), with no credentials given."""
    from manifest_runtime.cli import main

    manifest = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
    cassette = str(ROOT / "examples/activetrail-contacts/cassette.yaml")
    connect = "/workflows/0/setup/connect/describe_connection"
    assert main(["eval", manifest, connect, "--replay", cassette]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "account_id": "48213", "description": "Example Garden Supplies Ltd"}
    options = "/workflows/0/setup/select/form_fields/0/options"
    assert main(["eval", manifest, options, "--replay", cassette, "--trace"]) == 0
    captured = capsys.readouterr()
    groups = json.loads(captured.out)
    assert len(groups) == 130 and groups[0] == {"display": "Group 1", "value": "1001"}
    assert captured.err.count("(replayed)") == 3


def test_twilio_setup_and_run_replay_offline(capsys: pytest.CaptureFixture[str]) -> None:
    """The published Twilio config end to end from its example's cassette (recorded against
    examples/twilio-sms/fake_api.py), with no credentials: setup checks the credentials and
    fetches the project and number/service options; run sends one personalized SMS per
    contact; the same run again skips them all. The published manifest is never written."""
    import subprocess

    from manifest_runtime.cli import main

    example = ROOT / "examples/twilio-sms"
    manifest, cassette = example / "manifest.json", str(example / "cassette.yaml")
    published = manifest.read_bytes()
    assert main(["setup", str(manifest), "--answers", str(example / "answers.yaml"),
                 "--replay", cassette]) == 0
    out = capsys.readouterr().out
    assert "credentials: verified: GET https://api.twilio.com/2010-04-01/Accounts.json" in out
    assert "Project: Spring Campaign (AC0b1d2e3f405162738495a6b7c8d9e0f1)" in out
    assert "Phone Number or Messaging Service: Spring promo line (+12025550173)" in out
    run = ["run", str(manifest), "--contacts", str(example / "contacts.jsonl"),
           "--replay", cassette]
    assert main(run) == 0
    assert "read 3, delivered 3" in capsys.readouterr().out
    assert main(run) == 0
    assert "read 3, delivered 0, failed 0; 3 of them skipped" in capsys.readouterr().out
    assert manifest.read_bytes() == published
    head = subprocess.run(["git", "show", "HEAD:examples/twilio-sms/manifest.json"],
                          cwd=ROOT, capture_output=True, check=False)
    if head.returncode == 0:
        assert published == head.stdout


def test_twilio_cassette_sends_the_personalized_messages_and_keeps_no_secret() -> None:
    """The cassette's three POSTs carry each contact's personalized Body, From the chosen
    number; the fake's demo Auth Token (and its Basic header) appears nowhere."""
    import base64

    import yaml

    example = ROOT / "examples/twilio-sms"
    text = (example / "cassette.yaml").read_text()
    pair = base64.b64encode(b"AC5ef8732a3c49700934481addd5ce1659:demo-twilio-auth-token")
    assert "demo-twilio-auth-token" not in text and pair.decode() not in text
    posts = [i["request"] for i in yaml.safe_load(text)["interactions"]
             if i["request"]["method"] == "POST"]
    contacts = [json.loads(line) for line in
                (example / "contacts.jsonl").read_text().splitlines()]
    message = yaml.safe_load((example / "answers.yaml").read_text())["custom_data"]["message"]
    assert [p["body"] for p in posts] == [
        {"To": c["phone"], "From": "+12025550173",
         "Body": message.replace("%FIRSTNAME%", c["firstName"])} for c in contacts]


# ---------------------------------------------------------------------- end to end, offline
#
# Each example as its README runs it, from the repository root, answered by its cassette:
# validate, a headless setup, run / poll / serve, then the sandbox account (contacts, fields,
# tags) or what was sent, checked exactly. The state file is the test's own (conftest.py).

def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from manifest_runtime.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _contacts(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The sandbox account's contacts, whole (all fields, custom ones included, and tags),
    in creation order, without the ids."""
    code, out, _ = _cli(capsys, "sandbox", "contacts", "--format", "json")
    assert code == 0
    return [{k: v for k, v in c.items() if k != "id"} for c in json.loads(out)]


def _contact(email: str, first: str, last: str, tags: list[str], **more: Any
             ) -> dict[str, Any]:
    return {"email": email, "firstName": first, "lastName": last, **more, "tags": tags}


def _dead_letters() -> list[tuple[str, int, str, str]]:
    import os

    from manifest_runtime.pipeline.journal import Journal
    from manifest_runtime.state import StateFile

    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        return [(d.workflow, d.record_no, d.stage, d.code)
                for d in Journal(state.db, state.lock).dead_letters()]


def test_activetrail_contacts_end_to_end(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The inbound webhook example: setup, three webhook payloads through run, the contacts
    mapped and tagged; the same run again skips them."""
    monkeypatch.chdir(ROOT)
    ex = "examples/activetrail-contacts"
    code, out, _ = _cli(capsys, "setup", f"{ex}/manifest.yaml", "--answers",
                        f"{ex}/answers.yaml", "--replay", f"{ex}/cassette.yaml")
    assert code == 0 and "Group: Group 7 (1007)" in out
    run = ("run", f"{ex}/manifest.yaml", "--input", f"{ex}/payloads.jsonl",
           "--replay", f"{ex}/cassette.yaml")
    code, out, _ = _cli(capsys, *run)
    assert (code, out.strip()) == (0, "activetrail-member-to-contact: read 3, delivered 3, "
                                      "failed 0")
    assert _contacts(capsys) == [
        _contact("ada@example.com", "Ada", "Lovelace", ["activetrail", "vip"], phone="+15550100"),
        _contact("grace@example.com", "Grace", "Hopper", ["activetrail", "vip"],
                 phone="+15550101"),
        _contact("alan@example.com", "Alan", "Turing", ["activetrail", "vip"], phone=None)]
    code, out, _ = _cli(capsys, *run)
    assert code == 0 and "3 of them skipped" in out


AT_ACTIONS = "examples/activetrail-actions"


def test_activetrail_actions_end_to_end(capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The three outbound workflows, each set up and run over the same three contacts. Add to
    a group: Ada is created (POST), Grace updated (PUT), Alan refused by the manifest's
    `!error` (ActiveTrail says he unsubscribed). Update: custom fields mapped by their id are
    sent. Message: one personalized SMS each. A replay only answers the recorded requests,
    bodies included, so every run below made exactly the recorded calls."""
    monkeypatch.chdir(ROOT)
    manifest, cassette = f"{AT_ACTIONS}/manifest.yaml", f"{AT_ACTIONS}/cassette.yaml"
    assert _cli(capsys, "validate", manifest)[0] == 0
    expected = {
        "add-to-group": (1, "read 3, delivered 2, failed 1", "Group: Group 7 (1007)"),
        "update-contact": (0, "read 3, delivered 3, failed 0", "Company (1) -> Company (ext1)"),
        "send-message": (0, "read 3, delivered 3, failed 0", "Channel: SMS (sms)"),
    }
    for name, (exit_code, summary, chosen) in expected.items():
        code, out, _ = _cli(capsys, "setup", manifest, "--answers",
                            f"{AT_ACTIONS}/answers/{name}.yaml", "--replay", cassette)
        assert code == 0 and chosen in out, out
        code, out, err = _cli(capsys, "run", manifest, "--workflow", f"activetrail-{name}",
                              "--contacts", f"{AT_ACTIONS}/contacts.jsonl", "--replay", cassette)
        assert code == exit_code and f"activetrail-{name}: {summary}" in out, out + err
    assert err.splitlines() == [
        f"print_c: ActiveTrail: SMS 'Spring pickup reminder' to {who}@example.com"
        for who in ("ada", "grace", "alan")]
    assert _dead_letters() == [("activetrail-add-to-group", 3, "target", "error-command")]
    code, out, _ = _cli(capsys, "state", "show")
    assert "activetrail-add-to-group error-command at target: 1 (record 3): ActiveTrail " \
        "refuses: the contact unsubscribed from this group (examples/activetrail-actions/" \
        "manifest.yaml:94:15)" in out
    assert _contacts(capsys) == []  # outbound: the sandbox account is only read


def test_activetrail_actions_cassette_holds_the_calls_and_no_token() -> None:
    """What the runs above sent (the replay matched each body): the member created and
    updated, custom fields 1 and 2 under their ActiveTrail names, the personalized texts."""
    import yaml

    text = (ROOT / AT_ACTIONS / "cassette.yaml").read_text()
    assert "demo-token" not in text
    sent = [(i["request"]["method"], i["request"]["url"].split("/api", 1)[1],
             i["request"]["body"]) for i in yaml.safe_load(text)["interactions"]
            if i["request"]["method"] != "GET"]
    assert sent[:2] == [
        ("POST", "/groups/1007/members", {"email": "ada@example.com", "sms": "+15550100",
                                          "first_name": "Ada", "last_name": "Lovelace",
                                          "is_do_not_contact": "no"}),
        ("PUT", "/groups/1007/members/5002", {"sms": "+15550101", "first_name": "Grace",
                                              "last_name": "Hopper",
                                              "is_do_not_contact": "no"})]
    assert sent[2] == ("POST", "/contacts", {
        "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
        "sms": "+15550100", "ext1": "Analytical Engines Ltd", "birthday": "1815-12-10"})
    assert sent[3][:2] == ("PUT", "/contacts/5002") and sent[3][2]["ext1"] == "US Navy"
    assert [(m, p, b["mobile"], b["content"]) for m, p, b in sent[5:]] == [
        ("POST", "/sms/operational", phone, f"Hi {name}, your spring seed order is ready for "
         "pickup. Reply STOP to opt out.")
        for name, phone in (("Ada", "+15550100"), ("Grace", "+15550101"),
                            ("Alan", "+15550102"))]


EMAIL_API = "examples/email-api-polling"


def test_email_api_polling_end_to_end(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Session auth, then the first poll: the historical import (two pages: four users, the
    deactivated and the deleted one tagged), then the scheduled poll by updated_after (the
    changes made meanwhile: Ada renamed, Grace deactivated, Barbara new); a second poll finds
    nothing new. The polling_state ends at the newest user's updated_at."""
    import os

    from manifest_runtime.state import StateFile

    monkeypatch.chdir(ROOT)
    manifest, cassette = f"{EMAIL_API}/manifest.yaml", f"{EMAIL_API}/cassette.yaml"
    code, out, _ = _cli(capsys, "setup", manifest, "--answers", f"{EMAIL_API}/answers.yaml",
                        "--replay", cassette)
    assert code == 0
    assert "credentials: verified: POST https://api.email-api.example/v1/oauth/token" in out
    assert "schedule: recurring, every 1800 s" in out
    code, out, err = _cli(capsys, "poll", manifest, "--once", "--replay", cassette)
    assert (code, out.splitlines()) == (0, [
        "email-api-users: historical import: 2 request(s), read 4, delivered 4, failed 0; "
        "stopped: iterate is false",
        "email-api-users: poll: 2 request(s), read 3, delivered 3, failed 0; "
        "stopped: iterate is false"])
    assert err.strip() == ("print_c: Email API: the next poll asks for users updated after "
                           "2026-11-20T10:10:00Z")
    code, out, _ = _cli(capsys, "poll", manifest, "--once", "--replay", cassette)
    assert (code, out.strip()) == (0, "email-api-users: poll: 1 request(s), read 0, "
                                      "delivered 0, failed 0; stopped: no results")
    assert _contacts(capsys) == [
        _contact("ada@example.com", "Ada", "King", ["email-api"], phone="+15550100"),
        _contact("grace@example.com", "Grace", "Hopper", ["email-api", "email-api-deactivated"],
                 phone="+15550101"),
        _contact("alan@example.com", "Alan", "Turing", ["email-api", "email-api-deactivated"],
                 phone="+15550102"),
        _contact("edsger@example.com", "Edsger", "Dijkstra", ["email-api", "email-api-deleted"],
                 phone=""),
        _contact("barbara@example.com", "Barbara", "Liskov", ["email-api"], phone="+15550106")]
    assert _dead_letters() == []
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as state:
        assert state.load_polling_state("email-api-users") == (True, {
            "updated_after": "2026-11-20T10:10:00Z", "newest": "2026-11-20T10:10:00Z",
            "cursor": ""})
    # --reset forgets the polling state and the completed import: both run again
    code, out, _ = _cli(capsys, "poll", manifest, "--once", "--reset", "--replay", cassette)
    assert code == 0 and out.startswith("email-api-users: historical import: 2 request(s), "
                                        "read 4, delivered 4")


def test_email_api_setup_logs_in_once(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Against the example's fake API (real loopback HTTP): setup's credential check is the
    session's login, and describe_connection and the location options use that session: one
    login for the whole setup, not one for the check and another for the requests."""
    import importlib.util
    import threading
    from http.server import ThreadingHTTPServer

    monkeypatch.chdir(ROOT)
    spec = importlib.util.spec_from_file_location("email_api_fake", f"{EMAIL_API}/fake_api.py")
    assert spec is not None and spec.loader is not None
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    logins: list[int] = []

    class Counting(fake.Handler):
        def _login(self, raw: bytes) -> tuple[int, Any]:
            answer: tuple[int, Any] = super()._login(raw)
            logins.append(answer[0])
            return answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                     daemon=True).start()
    creds = tmp_path / "creds.yaml"
    creds.write_text(f"email-api-session:\n  username: {fake.CLIENT_ID}\n"
                     f"  password: {fake.CLIENT_SECRET}\n")
    try:
        code, out, err = _cli(capsys, "setup", f"{EMAIL_API}/manifest.yaml", "--answers",
                              f"{EMAIL_API}/answers.yaml", "--credentials", str(creds),
                              "--remap", "https://api.email-api.example="
                              f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, err
    assert "connection: Example Garden Supplies - ops@garden.example" in out
    assert "Location: Garden Centre (loc_garden)" in out
    assert logins == [200]


def test_email_api_cassette_keeps_no_credential() -> None:
    text = (ROOT / EMAIL_API / "cassette.yaml").read_text()
    for secret in ("demo-email-api-secret", "sess-", "ZGVtby1jbGllbnQ6"):  # base64 "demo-client:"
        assert secret not in text


PAYPAL = "examples/paypal-checkout"
PAYPAL_HOOK = "/webhooks/paypal-checkout-contacts"


def _signed_form(event: dict[str, Any], secret: str = "demo-webhook-signing-secret"
                 ) -> tuple[bytes, dict[str, str]]:
    """A notification as the provider (fake_api.py deliver) sends it."""
    import hashlib
    import hmac
    from urllib.parse import urlencode

    body = urlencode({"event_id": event["id"], "event_type": event["event_type"],
                      "create_time": event["create_time"],
                      "resource": json.dumps(event["resource"])}).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded",
                  "paypal-transmission-sig": hmac.new(secret.encode(), body,
                                                      hashlib.sha256).hexdigest()}


@contextmanager
def _serving(manifest: str, cassette: str) -> Iterator[tuple[Any, str]]:
    """`serve MANIFEST --replay CASSETTE` in-process (as tests/intake does): create runs on
    entry, delete on exit; yields starlette's TestClient and the webhook URL."""
    import warnings

    from manifest_runtime.cli import build_parser
    from manifest_runtime.cli.serve import serving
    from manifest_runtime.cli.session import compile_or_report

    with warnings.catch_warnings():  # as tests/intake/conftest.py: anyio >= 4.16 aliases
        warnings.filterwarnings("ignore", message=r"The anyio\.abc\.\w+ alias is deprecated",
                                category=DeprecationWarning)
        from starlette.testclient import TestClient

    args = build_parser().parse_args(["serve", manifest, "--replay", cassette])
    compiled = compile_or_report(args.manifest)
    assert compiled is not None
    with serving(args, compiled) as service, TestClient(service.app) as client:
        yield client, service.url


def test_activetrail_contacts_serve(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow-scope webhook served: create registers the URL (POST /webhooks, the hook
    id saved), the three payloads are delivered, delete removes the registration."""
    monkeypatch.chdir(ROOT)
    ex = "examples/activetrail-contacts"
    manifest, cassette = f"{ex}/manifest.yaml", f"{ex}/cassette.yaml"
    assert _cli(capsys, "setup", manifest, "--answers", f"{ex}/answers.yaml",
                "--replay", cassette)[0] == 0
    payloads = (ROOT / ex / "payloads.jsonl").read_text().splitlines()
    with _serving(manifest, cassette) as (client, url):
        assert url == "http://127.0.0.1:8787/webhooks/activetrail-member-to-contact"
        replies = [client.post(url.removeprefix("http://127.0.0.1:8787"), content=line,
                               headers={"Content-Type": "application/json"}).json()
                   for line in payloads]
    assert replies == [{"delivered": 1, "failed": 0}] * 3
    err = capsys.readouterr().err
    assert f"registered {url} (create ran)" in err
    assert f"removed the registration for {url} (delete ran)" in err
    assert _contacts(capsys) == [
        _contact("ada@example.com", "Ada", "Lovelace", ["activetrail", "vip"], phone="+15550100"),
        _contact("grace@example.com", "Grace", "Hopper", ["activetrail", "vip"],
                 phone="+15550101"),
        _contact("alan@example.com", "Alan", "Turing", ["activetrail", "vip"], phone=None)]


def test_paypal_checkout_end_to_end(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """OAuth2 setup, then serve in-process: create registers the webhook (replayed), a
    registration challenge is answered with the HMAC of the challenge, signed form-encoded
    notifications are delivered (tag per event type) or ignored (another merchant, another
    event family), a bad signature is refused with 401, and stopping runs delete."""
    import hashlib
    import hmac

    monkeypatch.chdir(ROOT)
    manifest, cassette = f"{PAYPAL}/manifest.json", f"{PAYPAL}/cassette.yaml"
    code, out, _ = _cli(capsys, "setup", manifest, "--answers", f"{PAYPAL}/answers.yaml",
                        "--replay", cassette)
    assert code == 0 and "credentials: accepted (the OAuth2 token was refreshed)" in out
    assert "connection: Example Garden Supplies - payments@garden.example" in out
    assert "selection: checkout order (resource CHECKOUT.ORDER)" in out
    events = [json.loads(line) for line in (ROOT / PAYPAL / "events.jsonl").read_text()
              .splitlines()]
    with _serving(manifest, cassette) as (client, url):
        assert url == "http://127.0.0.1:8787" + PAYPAL_HOOK
        challenge = client.get(PAYPAL_HOOK, params={"challenge": "c-1234"})
        assert challenge.status_code == 200 and challenge.json() == {
            "challenge_response": hmac.new(b"demo-webhook-signing-secret", b"c-1234",
                                           hashlib.sha256).hexdigest()}
        replies = []
        for event in events:
            body, headers = _signed_form(event)
            reply = client.post(PAYPAL_HOOK, content=body, headers=headers)
            replies.append((reply.status_code, reply.json()))
        forged, headers = _signed_form(events[0], secret="not-the-secret")
        refused = client.post(PAYPAL_HOOK, content=forged, headers=headers)
        assert refused.status_code == 401
    assert replies == [
        (200, {"delivered": 1, "failed": 0}), (200, {"delivered": 1, "failed": 0}),
        (200, {"delivered": 1, "failed": 0}),
        (202, {"ignored": 'resource_id "PAYMENT.CAPTURE" is not this selection\'s '
                          '("CHECKOUT.ORDER")'}),
        (202, {"ignored": 'account_id "sales@another-shop.example" is not this '
                          'connection\'s ("payments@garden.example")'})]
    err = capsys.readouterr().err
    assert "registered http://127.0.0.1:8787/webhooks/paypal-checkout-contacts (create ran)" \
        in err
    assert "removed the registration for http://127.0.0.1:8787/webhooks/" \
        "paypal-checkout-contacts (delete ran)" in err
    assert _contacts(capsys) == [
        _contact("ada@example.com", "Ada", "Lovelace",
         ["paypal", "paypal-checkout-order-approved", "paypal-checkout-order-completed"]),
        _contact("grace@example.com", "Grace", "Hopper",
                 ["paypal", "paypal-checkout-order-approved"])]
    assert _dead_letters() == []


def test_paypal_cassette_keeps_no_credential() -> None:
    text = (ROOT / PAYPAL / "cassette.yaml").read_text()
    for secret in ("demo-paypal-refresh-token", "demo-paypal-client-secret", "A21AA"):
        assert secret not in text


def test_the_examples_cover_every_command_intake_and_auth() -> None:
    """issue 15: together the examples use every command, every intake type and every auth
    type (counted from the compiled manifests, not from their text)."""
    from dataclasses import fields, is_dataclass

    from manifest_runtime.commands import COMMANDS
    from manifest_runtime.model import Arr, Command, Obj

    def commands(value: Any) -> Iterator[str]:
        if isinstance(value, Command):
            yield value.name
            yield from commands(value.node)
        elif isinstance(value, Obj):
            for item in value.items.values():
                yield from commands(item)
        elif isinstance(value, Arr | tuple | list):
            for item in value.items if isinstance(value, Arr) else value:
                yield from commands(item)
        elif is_dataclass(value) and not isinstance(value, type):
            for f in fields(value):
                yield from commands(getattr(value, f.name))

    used: set[str] = set()
    intakes: set[str] = set()
    auths: set[str] = set()
    for manifest in MANIFESTS:
        compiled = load_and_compile(str(manifest))
        used.update(commands(compiled.root))
        data = compiled.data
        auths.update(a["type"] for a in data["auth"].values())
        for intake in data.get("data_intake") or []:
            intakes.add(intake["type"])
            if intake.get("scope") == "application":
                intakes.add("application scope")
        for workflow in data["workflows"]:
            if workflow.get("historical_data_intake"):
                intakes.add("historical")
    assert used == set(COMMANDS)
    assert intakes == {"webhook", "polling", "historical", "application scope"}
    assert auths == {"token", "basic", "oauth2", "session"}


# ---------------------------------------------------------------------- the READMEs are true

EXAMPLE_READMES = sorted(ROOT.glob("examples/*/README.md"))


def _commands(block: str) -> list[str]:
    """The commands of a ```sh block: continuation lines joined, comments dropped."""
    joined = block.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _run_combined(argv: list[str]) -> str:
    """One command in-process, stdout and stderr in one stream as a terminal shows them."""
    import contextlib
    import io

    from manifest_runtime.cli import main

    stream = io.StringIO()
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream), \
            contextlib.suppress(SystemExit):  # usage errors exit through argparse
        main(argv)
    return stream.getvalue()


@pytest.mark.parametrize("readme", EXAMPLE_READMES, ids=lambda p: p.parent.name)
def test_example_readme_output_is_what_the_commands_print(
        readme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```sh block of an example's README that is followed at once by a ```text block,
    and holds only `manifest-runtime` commands, prints exactly that text when run in order
    from the repository root with a fresh default state file (a copy of examples/ in a
    temporary directory, so nothing is written into the checkout)."""
    import itertools
    import re
    import shlex
    import shutil

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MANIFEST_RUNTIME_STATE", raising=False)
    text = readme.read_text()
    fence = r"```(\w+)\n((?:(?!```).)*)```"
    blocks = [(m.group(1), m.group(2), m.start(), m.end())
              for m in re.finditer(fence, text, re.S)]
    pairs = [(a[1], b[1]) for a, b in itertools.pairwise(blocks)
             if a[0] == "sh" and b[0] == "text" and not text[a[3]:b[2]].strip()]
    ran = 0
    for block, expected in pairs:
        commands = _commands(block)
        if not all(c.startswith("manifest-runtime ") for c in commands):
            continue
        shown = "".join(_run_combined(shlex.split(c)[1:]) for c in commands)
        assert shown.rstrip("\n") == expected.rstrip("\n"), f"{readme}: {commands}"
        ran += 1
    if readme.parent.name in ("activetrail-actions", "email-api-polling", "paypal-checkout"):
        assert ran, f"{readme}: no block with its output was run"  # the parsing still works


def test_examples_index_lists_every_example_with_a_command_that_runs(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/README.md: one row per example directory, each with its command; the
    commands (but serve, which the PayPal test runs in-process) exit 0 offline."""
    import re
    import shlex

    monkeypatch.chdir(ROOT)
    index = (ROOT / "examples/README.md").read_text()
    rows = re.findall(r"^\| \[([\w-]+)\]\(\1/\) \|.*?\| `(manifest-runtime [^`]+)`", index, re.M)
    assert sorted(name for name, _ in rows) == sorted(
        p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
    for _, chain in rows:
        for command in chain.split(" && "):
            argv = shlex.split(command)[1:]
            if argv[0] == "serve":
                continue
            assert _cli(capsys, *argv)[0] == 0, command


def test_paypal_readme_flow_with_a_real_server_and_the_stand_in_delivering(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's serve steps as processes: `serve --replay` listening (any free port; the
    URL registered is the recorded one, given as --public-url), `fake_api.py challenge` and
    `fake_api.py deliver` posting to it, then SIGINT: delete runs, exit 130."""
    import signal
    import subprocess
    import sys
    import time

    monkeypatch.chdir(ROOT)
    manifest, cassette = f"{PAYPAL}/manifest.json", f"{PAYPAL}/cassette.yaml"
    assert _cli(capsys, "setup", manifest, "--answers", f"{PAYPAL}/answers.yaml",
                "--replay", cassette)[0] == 0
    public = "http://127.0.0.1:8787" + PAYPAL_HOOK
    argv = [sys.executable, "-m", "manifest_runtime", "serve", manifest, "--replay", cassette,
            "--port", "0", "--public-url", public]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        try:
            assert proc.stderr is not None
            started = time.monotonic()
            lines: list[str] = []
            while not any("receiving webhooks at" in line for line in lines):
                assert time.monotonic() - started < 30 and proc.poll() is None, lines
                lines.append(proc.stderr.readline())
            # "... receiving webhooks at PUBLIC (listening on 127.0.0.1:PORT); ..."
            listening = next(line for line in lines if "receiving webhooks at" in line)
            port = listening.split("(listening on 127.0.0.1:", 1)[1].split(")", 1)[0]
            url = f"http://127.0.0.1:{port}{PAYPAL_HOOK}"
            stand_in = [sys.executable, f"{PAYPAL}/fake_api.py"]
            said = subprocess.run([*stand_in, "challenge", url], capture_output=True,
                                  text=True, check=True).stdout
            assert said == "challenge -> 200: verified\n"
            said = subprocess.run([*stand_in, "deliver", url, f"{PAYPAL}/events.jsonl"],
                                  capture_output=True, text=True, check=True).stdout
            assert [line.split(" -> ")[1][:3] for line in said.splitlines()] == [
                "200", "200", "200", "202", "202"]
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert "delete ran" in err and "Traceback" not in err
    assert "received 6 webhook(s): delivered 3, failed 0, ignored 2, answered by " \
        "verification 1" in out
    assert [c["tags"] for c in _contacts(capsys)] == [
        ["paypal", "paypal-checkout-order-approved", "paypal-checkout-order-completed"],
        ["paypal", "paypal-checkout-order-approved"]]
