"""The embedded sandbox account: `eval` writes to it through `!resource`, it persists in the
state file, and `manifest-runtime sandbox ...` lists it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from manifest_runtime.activecampaign import MemoryAccount, SandboxAccount
from manifest_runtime.cli import main
from manifest_runtime.errors import EvaluationError

ROOT = Path(__file__).resolve().parent.parent
AT = str(ROOT / "examples/activetrail-contacts/manifest.yaml")
TARGET = "/workflows/0/data_pipeline/target"


def upsert(record: dict[str, object], *extra: str) -> int:
    return main(["eval", AT, TARGET, "--input", json.dumps(record), *extra])


@pytest.mark.usefixtures("state_backend")
def test_eval_writes_contacts_that_persist_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert upsert({"email": "Ada@Example.com", "firstName": "Ada", "1": "Engines Ltd",
                   "_tags": ["activetrail", "vip"]}) == 0
    assert upsert({"email": "ada@example.com", "lastName": "Lovelace",
                   "_tags": ["activetrail"]}) == 0  # the same contact: email is the key
    assert upsert({"email": "bo@example.com", "_tags": ["activetrail"]}) == 0
    capsys.readouterr()
    assert main(["sandbox", "contacts", "--format", "json"]) == 0
    contacts = json.loads(capsys.readouterr().out)
    assert contacts == [
        {"id": 1, "email": "Ada@Example.com", "firstName": "Ada", "lastName": "Lovelace",
         "Company": "Engines Ltd", "tags": ["activetrail", "vip"]},
        {"id": 2, "email": "bo@example.com", "tags": ["activetrail"]},
    ]
    assert main(["sandbox", "contacts"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].split() == ["id", "email", "firstName", "lastName", "Company", "tags"]
    assert text[1].split()[:2] == ["1", "Ada@Example.com"]
    assert main(["sandbox", "tags", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"id": 1, "tag": "activetrail"},
                                                   {"id": 2, "tag": "vip"}]


@pytest.mark.usefixtures("state_backend")
def test_a_failed_upsert_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert upsert({"email": "x@example.com", "nickname": "X"}) == 1
    assert "contact-field" in capsys.readouterr().err
    assert main(["sandbox", "contacts", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_memory_state_keeps_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert upsert({"email": "m@example.com"}, "--state", ":memory:") == 0
    capsys.readouterr()
    assert main(["sandbox", "contacts", "--state", str(tmp_path / "none.db")]) == 2
    assert "no state file" in capsys.readouterr().err


@pytest.mark.usefixtures("state_backend")
def test_sandbox_lists_fields_and_empty_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert upsert({"email": "m@example.com"}) == 0
    capsys.readouterr()
    assert main(["sandbox", "fields", "--format", "json"]) == 0
    fields = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in fields] == ["email", "firstName", "lastName", "phone", "1", "2"]
    assert fields[4]["perstag"] == "COMPANY"
    assert main(["sandbox", "deals"]) == 0
    assert capsys.readouterr().out.startswith("no deals in ")


@pytest.mark.parametrize("make", [lambda: MemoryAccount(),
                                  lambda: SandboxAccount(sqlite3.connect(":memory:"))])
def test_sync_is_all_or_partial_in_both_storages(make: object) -> None:
    """The same rules over memory and SQLite: a failing part leaves the others written; every
    part failing writes nothing."""
    account = make()  # type: ignore[operator]
    out = account.sync({"contact": {"email": "c@example.com"},
                        "deal": {"value": 5, "currency": "usd", "group": "1"}})
    assert out["contact-id"] == 1 and out["errors"] == [
        "deal: ActiveCampaign refused the deal (HTTP 422): Deal title is required."]
    with pytest.raises(EvaluationError):
        account.sync({"contact": {"email": "nope"}, "account": {"name": ""}})
    assert list(account.contacts) == ["c@example.com"]
    assert account.accounts == {} and account.deals == {}
    big = {"title": "Big", "value": 0, "currency": "usd", "stage": "1", "account": 1}
    assert account.deal_sync({"deal": big}) == {"deal_id": 1}
    assert account.deal_sync({"deal": {"id": 1, "value": 9}}) == {"deal_id": 1}
    assert account.deals == {1: {**big, "id": 1, "value": 9}}


# `_tags` as written by a target -> the contact's tags, or the error code (nothing written)
TAGS_CASES = [
    (["activetrail", "vip"], ["activetrail", "vip"]),
    ("vip", ["vip"]),                          # one string is one tag, never v, i, p
    ([7, 1.5, "vip", "vip"], ["7", "1.5", "vip"]),  # numbers as their text; repeats once
    (None, []),
    ([], []),
    ({"a": 1}, "contact-tags"),                # an object's keys are not tags
    (5, "contact-tags"),
    (True, "contact-tags"),
    (["ok", None], "contact-tags"),
    (["ok", ["nested"]], "contact-tags"),
    (["ok", False], "contact-tags"),
    (["ok", " "], "contact-tags"),
    ("", "contact-tags"),
]


@pytest.mark.parametrize("make", [lambda: MemoryAccount(),
                                  lambda: SandboxAccount(sqlite3.connect(":memory:"))],
                         ids=["memory", "sqlite"])
@pytest.mark.parametrize(("tags", "expected"), TAGS_CASES, ids=[repr(c[0]) for c in TAGS_CASES])
def test_contact_tags_are_checked_before_anything_is_written(
        make: object, tags: object, expected: list[str] | str) -> None:
    account = make()  # type: ignore[operator]
    data = {"email": "t@example.com", "firstName": "T", "_tags": tags}
    if isinstance(expected, str):
        with pytest.raises(EvaluationError) as info:
            account.upsert_contact(data)
        d = info.value.diagnostic
        assert d.code == expected and "_tags" in d.message and d.hint and "list" in d.hint
        assert account.contacts == {} and account.tags == []
    else:
        assert account.upsert_contact(data)["tags"] == expected
        assert account.contacts["t@example.com"]["tags"] == expected
        assert account.tags == expected


@pytest.mark.usefixtures("state_backend")
def test_a_string_of_tags_through_eval_is_one_tag(capsys: pytest.CaptureFixture[str]) -> None:
    assert upsert({"email": "s@example.com", "_tags": "vip"}) == 0
    assert upsert({"email": "o@example.com", "_tags": {"a": 1}}) == 1
    assert "contact-tags" in capsys.readouterr().err
    assert main(["sandbox", "contacts", "--format", "json"]) == 0
    contacts = json.loads(capsys.readouterr().out)
    assert contacts == [{"id": 1, "email": "s@example.com", "tags": ["vip"]}]


def test_two_processes_creating_the_sandbox_at_once_both_succeed(tmp_path: Path) -> None:
    """The first use of a state file seeds the sandbox's custom fields. Two processes doing it
    at once both saw the table empty; the second one's insert hit the first one's rows
    (`UNIQUE constraint failed: ac_custom_fields.id`, a `run` exiting 1). Here the other
    process seeds the table between this one's look and its insert."""
    from manifest_runtime.activecampaign.storage import DEFAULT_CUSTOM_FIELDS, SqliteStorage

    path = str(tmp_path / "state.db")
    mine, other = sqlite3.connect(path), sqlite3.connect(path)
    seeded = []

    def other_process_first(statement: str) -> None:
        if statement.startswith("INSERT") and "INTO ac_custom_fields" in statement \
                    and not seeded:
            seeded.append(SqliteStorage(other))  # a whole other seeding, committed

    mine.set_trace_callback(other_process_first)
    fields = SqliteStorage(mine).custom_fields()
    assert seeded and fields == DEFAULT_CUSTOM_FIELDS
    assert seeded[0].custom_fields() == DEFAULT_CUSTOM_FIELDS
    mine.close()
    other.close()
