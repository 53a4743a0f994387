"""The sandbox storage's write path (activecampaign/storage.py): a record put back unchanged
right after it was read writes no row; anything else is written, inside batches and after a
batch is rolled back, so the state file always holds the last record put."""

from __future__ import annotations

from pathlib import Path

from manifest_runtime.state import StateFile


def changes(state: StateFile) -> int:
    return state.db.total_changes


def test_an_unchanged_upsert_writes_no_row_and_a_changed_one_does(tmp_path: Path) -> None:
    with StateFile(str(tmp_path / "s.db")) as state:
        ac = state.sandbox()
        ac.upsert_contact({"email": "ada@example.com", "firstName": "Ada", "_tags": ["vip"]})
        before = changes(state)
        ac.upsert_contact({"email": "ada@example.com", "firstName": "Ada", "_tags": ["vip"]})
        assert changes(state) == before  # the same contact again: nothing written
        ac.upsert_contact({"email": "ada@example.com", "lastName": "Lovelace"})
        assert changes(state) > before
        assert ac.contacts["ada@example.com"]["lastName"] == "Lovelace"


def test_the_last_put_wins_within_a_transaction(tmp_path: Path) -> None:
    with StateFile(str(tmp_path / "s.db")) as state:
        storage = state.sandbox().storage
        storage.put("account", "acme", {"id": 1, "name": "Acme"})
        with storage.transaction():
            original = storage.get("account", "acme")
            assert original is not None
            storage.put("account", "acme", {**original, "name": "Changed"})
            storage.put("account", "acme", original)  # back to what was read: written
        assert storage.get("account", "acme") == {"id": 1, "name": "Acme"}


def test_a_put_after_a_rolled_back_batch_is_written(tmp_path: Path) -> None:
    """A batch whose part failed is rolled back whole (StateFile.batch); the same record
    put again afterwards, without reading it first, must land."""
    with StateFile(str(tmp_path / "s.db")) as state:
        storage = state.sandbox().storage
        with state.batch() as db:
            storage.put("deal", "1", {"id": 1, "title": "Deal"})
            try:
                with storage.transaction():
                    raise ValueError("a part fails")
            except ValueError:
                pass
        assert db.spoiled
        assert storage.get("deal", "1") is None  # rolled back with the batch
        storage.put("deal", "1", {"id": 1, "title": "Deal"})
        assert storage.get("deal", "1") == {"id": 1, "title": "Deal"}


def test_a_value_equal_in_python_but_not_in_json_is_written(tmp_path: Path) -> None:
    """1, 1.0 and true compare equal in Python: only texts and nulls count as unchanged."""
    with StateFile(str(tmp_path / "s.db")) as state:
        ac = state.sandbox()
        ac.upsert_contact({"email": "ada@example.com", "phone": "1"})
        ac.upsert_contact({"email": "ada@example.com", "phone": 1})
        assert ac.contacts["ada@example.com"]["phone"] == 1
        ac.upsert_contact({"email": "ada@example.com", "phone": True})
        assert ac.contacts["ada@example.com"]["phone"] is True
        before = changes(state)
        ac.upsert_contact({"email": "ada@example.com", "_tags": ["New"]})  # a new tag
        assert changes(state) > before
        assert ac.contacts["ada@example.com"]["tags"] == ["New"]


def test_tags_compare_without_case_for_new_and_stored_contacts_alike(tmp_path: Path) -> None:
    """A new contact's tags are resolved once per list of tags and kept for the next ones:
    the names stay the account's, whatever the case given."""
    with StateFile(str(tmp_path / "s.db")) as state:
        ac = state.sandbox()
        ac.upsert_contact({"email": "old@example.com", "_tags": ["VIP"]})
        for email in ("a@example.com", "b@example.com"):
            assert ac.upsert_contact({"email": email, "_tags": ["vip", "New", "new"]}
                                     )["tags"] == ["VIP", "New"]
        assert ac.upsert_contact({"email": "old@example.com", "_tags": ["NEW", "x"]}
                                 )["tags"] == ["VIP", "New", "x"]
        assert ac.tags == ["VIP", "New", "x"]
        assert ac.contacts["b@example.com"]["tags"] == ["VIP", "New"]


def test_stored_records_read_back_as_json_loads_reads_them(tmp_path: Path) -> None:
    """Records are decoded by the JSON scanner alone; a text that is not exactly one JSON
    value (not written by the sandbox) is read by json.loads, with its errors."""
    import json

    import pytest

    with StateFile(str(tmp_path / "s.db")) as state:
        storage = state.sandbox().storage
        record = {"id": 1, "name": "Ünïcode ☃", "n": 1.5, "big": 2**70, "none": None,
                  "list": [1, "2", {"3": [True, False]}]}
        storage.put("account", "a", record)
        assert storage.get("account", "a") == record
        for key, text in (("b", ' {"id": 2} '), ("c", '{"id": 3} x'), ("d", "")):
            state.db.execute("INSERT INTO ac_records (kind, key, seq, data) VALUES "
                             "('account', ?, 9, ?)", (key, text))
        state.db.commit()
        assert storage.get("account", "b") == {"id": 2}
        with pytest.raises(json.JSONDecodeError, match="Extra data"):
            storage.get("account", "c")
        with pytest.raises(json.JSONDecodeError, match="Expecting value"):
            storage.get("account", "d")
