"""Pairing unknown keys with the missing required keys they misspell (one diagnostic each)."""

from __future__ import annotations

import pytest

from manifest_runtime.errors import misspelt_required


@pytest.mark.parametrize(("unknown", "missing", "pairs"), [
    (["labl"], ["label"], {"labl": "label"}),
    (["labl"], [], {}),
    ([], ["label"], {}),
    (["colour"], ["label"], {}),  # not close: both diagnostics stay
    (["lable", "labl", "nme"], ["label", "name"], {"labl": "label", "nme": "name"}),
    (["labels_"], ["label", "labels"], {"labels_": "labels"}),  # the closest pair wins
    (["labelz", "labls"], ["labels"], {"labls": "labels"}),  # a required key pairs once
])
def test_pairs_close_unknown_keys_with_missing_required_keys(
    unknown: list[str], missing: list[str], pairs: dict[str, str]
) -> None:
    assert misspelt_required(unknown, missing) == pairs
