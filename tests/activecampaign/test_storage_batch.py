"""The sandbox inside a batch (`StateFile.batch`, activecampaign/storage.py `_Pending`): its
records and ids stay in memory until the batch commits, then go in with one statement each.
What a reader sees must be what it saw when every write went straight to the database, on
both backends: the same email twice in one batch, ids 1, 2, 3 in order, nothing of a batch
rolled back (and its ids taken again), tags written again after a rolled-back batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from manifest_runtime.state import StateFile


def test_a_batch_reads_its_own_writes_and_commits_them_in_order(state_target: str) -> None:
    with StateFile(state_target) as state:
        ac = state.sandbox()
        ac.upsert_contact({"email": "old@example.com", "_tags": ["old"]})
        with state.batch() as db:
            first = ac.upsert_contact({"email": "Ada@example.com", "firstName": "Ada",
                                       "_tags": ["vip"]})
            again = ac.upsert_contact({"email": "ada@example.com", "lastName": "Lovelace",
                                       "_tags": ["VIP", "new"]})
            other = ac.upsert_contact({"email": "bob@example.com"})
            old = ac.upsert_contact({"email": "OLD@example.com", "phone": "1"})
            # another account on the same connection sees the batch's writes too
            assert state.sandbox().storage.get("contact", "ada@example.com") == again
        assert not db.spoiled
        assert (first["id"], again["id"], other["id"], old["id"]) == (2, 2, 3, 1)
        assert again["tags"] == ["vip", "new"] and again["firstName"] == "Ada"
    with StateFile(state_target) as state:  # what was committed, read back fresh
        ac = state.sandbox()
        contacts = ac.contacts
        assert list(contacts) == ["old@example.com", "ada@example.com", "bob@example.com"]
        assert contacts["ada@example.com"] == again
        assert contacts["old@example.com"]["phone"] == "1"
        assert ac.tags == ["old", "vip", "new"]
        assert ac.upsert_contact({"email": "cy@example.com"})["id"] == 4


def test_a_listing_inside_a_batch_sees_its_writes(state_target: str) -> None:
    with StateFile(state_target) as state:
        ac = state.sandbox()
        with state.batch():
            ac.upsert_contact({"email": "a@example.com"})
            assert list(ac.contacts) == ["a@example.com"]  # written into the transaction
            ac.upsert_contact({"email": "b@example.com"})
            ac.upsert_contact({"email": "a@example.com", "firstName": "A"})
        assert [(c["id"], c.get("firstName")) for c in ac.contacts.values()] == \
            [(1, "A"), (2, None)]
        assert ac.upsert_contact({"email": "c@example.com"})["id"] == 3


def test_a_rolled_back_batch_keeps_nothing_and_its_ids_are_taken_again(state_target: str) -> None:
    with StateFile(state_target) as state:
        ac = state.sandbox()
        ac.upsert_contact({"email": "a@example.com"})
        with state.batch() as db:
            assert ac.upsert_contact({"email": "b@example.com", "_tags": ["t"]})["id"] == 2
            try:
                with ac.storage.transaction():
                    raise ValueError("a part fails")
            except ValueError:
                pass
            assert ac.upsert_contact({"email": "c@example.com"})["id"] == 3
        assert db.spoiled
        assert list(ac.contacts) == ["a@example.com"] and ac.tags == []
        with pytest.raises(RuntimeError), state.batch():
            ac.upsert_contact({"email": "d@example.com", "_tags": ["t"]})
            raise RuntimeError("the batch itself fails")
        assert list(ac.contacts) == ["a@example.com"] and ac.tags == []
        # run again record by record, as the batch engine does after a spoiled batch
        b = ac.upsert_contact({"email": "b@example.com", "_tags": ["t"]})
        assert b["id"] == 2 and ac.tags == ["t"]
        with state.batch():
            assert ac.upsert_contact({"email": "e@example.com", "_tags": ["t", "u"]})["id"] == 3
        assert ac.tags == ["t", "u"]
        assert [c["id"] for c in ac.contacts.values()] == [1, 2, 3]


def test_an_unchanged_contact_in_a_batch_writes_nothing(tmp_path: Path) -> None:
    with StateFile(str(tmp_path / "s.db")) as state:
        ac = state.sandbox()
        ac.upsert_contact({"email": "ada@example.com", "firstName": "Ada", "_tags": ["vip"]})
        before = state.db.total_changes
        with state.batch():
            ac.upsert_contact({"email": "ada@example.com", "firstName": "Ada",
                               "_tags": ["vip"]})
        assert state.db.total_changes == before
