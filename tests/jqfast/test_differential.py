"""The jq fast path against libjq: identical outputs (1 vs 1.0, key order included) and
identical error-or-not, on every jq program of the repository and a generated corpus.

A `fallback` (the fast path declines a value it does not model exactly, e.g. a float to
print) is allowed: in production that record runs on libjq. Everything else must agree."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from corpus import INPUTS, generated_programs, repo_programs
from differential import Pair


def _inputs_for(variables: int) -> list[Any]:
    if not variables:
        return INPUTS
    # the compiler binds expansions as .[1], .[2], ... around the input .[0]
    n = len(INPUTS)
    return [[v, *(INPUTS[(i * 7 + 3 * k + 1) % n] for k in range(variables))]
            for i, v in enumerate(INPUTS)]


def _check(programs: list[tuple[str, int]]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    differences: list[str] = []
    for text, variables in programs:
        try:
            pair = Pair(text)
        except ValueError:
            kinds["not jq"] += 1  # the syntax-error cases of the validate tests
            continue
        for value in _inputs_for(variables):
            kind, difference = pair.compare(value)
            kinds[kind] += 1
            if difference is not None and len(differences) < 20:
                differences.append(f"{text!r} on {value!r}: {difference}")
    assert not differences, "\n".join(differences)
    return kinds


def test_every_program_of_the_tests_examples_and_docs_agrees() -> None:
    programs = repo_programs()
    assert len(programs) > 80  # the walk found the manifests' programs
    kinds = _check(programs)
    assert kinds["ok"] > 1000 and kinds["error"] > 100
    valid = [text for text, _ in programs if _compiles(text)]
    fast = [text for text in valid if Pair(text).fast is not None]
    assert len(fast) / len(valid) > 0.85, sorted(set(valid) - set(fast))


def _compiles(text: str) -> bool:
    try:
        Pair(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("seed", [11, 12])
def test_a_generated_corpus_agrees(seed: int) -> None:
    kinds = _check([(p, 0) for p in generated_programs(600, seed)])
    runs = sum(kinds.values())
    assert kinds["ok"] > runs * 0.2 and kinds["error"] > runs * 0.2
    assert kinds["fallback"] < runs * 0.15


def test_sort_unique_min_max_agree_with_libjq() -> None:
    """jq's order on mixed arrays: ties, 1 vs 1.0, nulls (libjq decides), nesting."""
    arrays: list[Any] = [[3, 1, 2], [1, 1.0, "a", None], [[1], [0, 2], []], [2, 2.0],
                         [{"a": 1}, {"a": 0}, {"b": 0}], [1.5, -1, "b", "a", True, False],
                         [], [None], ["é", "e", "z"], [{"a": 1, "b": 2}, {"b": 2, "a": 1}]]
    programs = [(p, 0) for p in ("sort", "unique", "min", "max", "map(.a?) | max",
                                 "[.[] | tostring] | unique", "sort | first(.[])?")]
    kinds: Counter[str] = Counter()
    for text, _ in programs:
        pair = Pair(text)
        for value in [*arrays, *INPUTS]:
            kind, difference = pair.compare(value)
            assert difference is None, f"{text!r} on {value!r}: {difference}"
            kinds[kind] += 1
    assert kinds["ok"] > 30  # the fast path did answer


def test_objects_added_built_as_one_agree_with_libjq() -> None:
    """`{...} + {...}` with constant keys is one object built from both sides' entries: key
    order and the right side's value for a key on both sides as jq's `+`."""
    programs = [(p, 0) for p in (
        "{a, b} + {c: 1}", "{a: 1, b: 2} + {a: 3}", "{b: .a} + {a: .b, b: .c}",
        "{} + {}", "{} + {x: .a}", "{a: .a.b} + {}", "{email, tags} + {_tags: (.tags + [1])}",
        "{a: (.a | length)} + {a: .b}", "{a: .x[]} + {b: 1}", "{a: 1} + {b: error}",
        ".body | {id} + {name: .name, id: \"x\"}")]
    kinds = _check(programs)
    assert kinds["ok"] > 100 and kinds["error"] > 10
