"""A program specialized to its expansions' values (jqfast/fold.py) against libjq on the
unspecialized program: identical outputs and identical error-or-not, on the repository's
programs with expansions and on generated ones, for plain values (put in place and folded)
and others (kept as bindings)."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import jq
from corpus import INPUTS, _Gen, repo_programs
from differential import exact, fast_result, libjq_result

from manifest_runtime.jqfast import ast
from manifest_runtime.jqfast.compile import compile_node
from manifest_runtime.jqfast.fold import specialize
from manifest_runtime.jqfast.parser import parse
from manifest_runtime.jqfast.program import FastProgram, compile_fast

VALUES: list[Any] = [None, True, False, 0, 7, -3, "", "abc", "vip", "12", "a,b", 2**53 + 1,
                     2.5, 1.0, [1, "a"], {"value": "x", "display": "X"}]


def _check(text: str, values: list[list[Any]], inputs: list[Any], kinds: Counter[str],
           differences: list[str]) -> None:
    libjq = jq.compile(text)
    for bound in values:
        try:
            tree = specialize(parse(text), bound)
        except Exception as exc:  # the specializer must never fail on a subset program
            differences.append(f"{text!r} with {bound!r}: {type(exc).__name__}: {exc}")
            continue
        if tree is None:
            kinds["nothing in place"] += 1
            continue
        fn = compile_node(tree)
        for value in inputs:
            data = [value, *bound]
            lib_kind, lib = libjq_result(libjq, data)
            kind, fast = fast_result(fn, data)
            kinds[kind] += 1
            if kind == "fallback":
                continue
            differs = kind != lib_kind or (kind == "ok" and exact(fast) != exact(lib))
            if differs and len(differences) < 20:
                differences.append(f"{text!r} with {bound!r} on {value!r}: libjq "
                                   f"{lib_kind} {lib!r}, specialized {kind} {fast!r}")


def test_the_repositorys_programs_with_expansions_agree_specialized() -> None:
    programs = [(t, n) for t, n in repo_programs() if n and compile_fast(t, None) is not None]
    assert len(programs) > 10
    kinds: Counter[str] = Counter()
    differences: list[str] = []
    r = random.Random(5)
    for text, n in programs:
        values = [[r.choice(VALUES) for _ in range(n)] for _ in range(8)]
        _check(text, values, INPUTS, kinds, differences)
    assert not differences, "\n".join(differences)
    assert kinds["ok"] > 500


def test_generated_programs_agree_specialized() -> None:
    gen = _Gen(23)
    kinds: Counter[str] = Counter()
    differences: list[str] = []
    inputs = INPUTS[::3]
    seen = 0
    while seen < 250:
        body = gen.expr(3).replace("$v", "$__mr0")
        text = f'.[2] as $__mr1 | .[1] as $__mr0 | .[0] | (\n{body} + ($__mr1 | length)\n)'
        if compile_fast(text, None) is None:
            continue
        seen += 1
        values = [[a, b] for a in VALUES[::2] for b in ("xy", [1])]
        _check(text, values, inputs, kinds, differences)
    assert not differences, "\n".join(differences)
    runs = sum(kinds.values())
    assert kinds["ok"] > runs * 0.2 and kinds["error"] > runs * 0.1


def test_plain_values_are_folded_and_others_stay_bound() -> None:
    text = ('.[2] as $__mr1 | .[1] as $__mr0 | .[0] | (\n{tags: (["a"] + (if "\\($__mr0)" == ""'
            ' then [] else ["\\($__mr0)"] end)), group: $__mr1}\n)')
    tree = specialize(parse(text), ["vip", {"id": 1}])
    assert tree is not None
    # $__mr0 is gone (a literal, the `if` decided); $__mr1 (an object) is still bound
    assert "__mr0" not in repr(tree) and isinstance(tree, ast.Bind) and tree.name == "__mr1"
    assert "If(" not in repr(tree)
    program = compile_fast(text, jq.compile(text))
    assert isinstance(program, FastProgram)
    special = program.specialize(["vip", {"id": 1}])
    assert special is not None
    data = [{}, "vip", {"id": 1}]
    assert special.all(data) == program.all(data) == [{"tags": ["a", "vip"],
                                                       "group": {"id": 1}}]
    assert program.specialize([{"id": 1}, [2]]) is None  # nothing plain: nothing to do


def test_a_binding_of_the_same_name_inside_shadows_the_value() -> None:
    text = '.[1] as $__mr0 | .[0] | (\n[$__mr0, (.a as $__mr0 | $__mr0), $__mr0]\n)'
    program = compile_fast(text, jq.compile(text))
    assert isinstance(program, FastProgram)
    special = program.specialize(["outer"])
    assert special is not None
    assert special.all([{"a": "inner"}, "outer"]) == [["outer", "inner", "outer"]]


def test_an_error_of_the_specialized_program_is_libjqs() -> None:
    text = '.[1] as $__mr0 | .[0] | (\n.a + $__mr0\n)'
    program = compile_fast(text, jq.compile(text))
    assert isinstance(program, FastProgram)
    special = program.specialize(["x"])
    assert special is not None
    assert special.all([{"a": "y"}, "x"]) == ["yx"]
    try:
        special.all([{"a": 1}, "x"])
    except ValueError as exc:
        assert "cannot be added" in str(exc)
    else:
        raise AssertionError("expected libjq's error")
    assert program.stats == [1, 1]  # the specialized runs count in the program's stats
