"""Benchmark evaluation: a `!pipe` of a `!jq` with two expansions over N records, against the
bare compiled jq call (the same rewritten program, the two values bound by hand).

    python bench/bench_eval.py [--records 100000] [--runs 3]

Both run in the same process, interleaved; the best run of each is compared. Target: the
runtime within 1.3x of the bare call (DESIGN §8 budget 1.2x for per-record cost).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

PROGRAM = ("{id, email: (.email | ascii_downcase), name: (.first + \" \" + .last), "
           "tag: ${custom_data.tag.value}, batch: ${polling_state.batch}}")


def records(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "email": f"User{i}@Example.com", "first": "Ann", "last": f"L{i}",
             "phone": "+1555000" + str(i % 10), "extra": {"a": [1, 2, 3], "b": None}}
            for i in range(n)]


def best(fn: Callable[[], None], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    from manifest_runtime.compile import Scope, compile_value
    from manifest_runtime.runtime import EvalContext, evaluate
    from manifest_runtime.source import SourceMap

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    node, diagnostics = compile_value({"!pipe": [{"!jq": PROGRAM}]}, ("bench",),
                                      Scope(polling=True), SourceMap("bench"))
    assert not diagnostics, diagnostics
    ctx = EvalContext.create(custom_data={"tag": {"value": "vip", "display": "VIP"}},
                             polling_state={"batch": 7})
    program = node.node.steps[0].node.program  # type: ignore[union-attr]
    data = records(args.records)

    def runtime() -> None:
        for record in data:
            evaluate(node, record, ctx)

    def bare() -> None:
        for record in data:
            program.input_value([record, "vip", 7]).first()

    assert evaluate(node, data[1], ctx) == program.input_value([data[1], "vip", 7]).first()
    times_rt, times_bare = [], []
    for _ in range(args.runs):
        times_bare.append(best(bare, 1))
        times_rt.append(best(runtime, 1))
    t_bare, t_rt = min(times_bare), min(times_rt)
    per = 1e6 / args.records
    print(f"records: {args.records}")
    print(f"bare compiled jq (values bound): {t_bare:.3f} s ({t_bare * per:.1f} us/record)")
    print(f"runtime !pipe [!jq + 2 expansions]: {t_rt:.3f} s ({t_rt * per:.1f} us/record)")
    ratio = t_rt / t_bare
    print(f"ratio: {ratio:.2f}x (target <= 1.3x)")
    return 0 if ratio <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
