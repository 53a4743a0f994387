"""The jq fast path against libjq on typical manifest programs, side by side in one run.

    python bench/bench_jq.py [--records 20000] [--runs 3]

For each program: µs per record of the fast path as the runtime calls it
(`program.input_value(v).all()`, outputs checked against libjq first) and of a compiled
libjq program called the cheapest way (`jq.compile(p).input_value(v).first()`), and the
ratio fast / libjq (below 1.0: the fast path is faster). Best of --runs.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import jq

from manifest_runtime.jqfast import compile_program
from manifest_runtime.jqfast.program import FastProgram

CONTACT = {"id": 7, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
           "phone": "+44 20 7946 0000", "tags": ["vip", "new"], "active": True,
           "address": {"street": "12 St James's Square", "city": "London", "zip": "SW1Y 4LB"},
           "company": {"name": "Analytical Engines", "size": 12},
           "custom_fields": [{"id": 1, "value": "a"}, {"id": 2, "value": None}]}
PAGE = {"data": [dict(CONTACT, id=i, active=i % 2 == 0) for i in range(20)],
        "meta": {"page": 1, "total_pages": 5}}

# (name, program, input): the shapes the examples and tests use most.
PROGRAMS: list[tuple[str, str, Any]] = [
    ("webhook payload reshape", ".member | {email, first_name, last_name, phone}",
     {"member": CONTACT}),
    ("peer job (5 fields)", "{email, first_name, last_name, city: .address.city, _tags: .tags}",
     CONTACT),
    ("renamed fields + default", '{email: .email, firstName: .first_name, '
     'phone: (.phone // ""), company: (.company.name // null)}', CONTACT),
    ("page items: .data[]", ".data[]", PAGE),
    ("select + construct", "[.data[] | select(.active) | {id, email}]", PAGE),
    ("map", "map(.email)", PAGE["data"]),
    ("string interpolation", '"\\(.first_name) \\(.last_name) <\\(.email)>"', CONTACT),
    ("object +", '. + {source: "manifest", tags: (.tags + ["imported"])}', CONTACT),
    ("if/elif + comparisons", 'if .company.size > 100 then "large" elif .company.size > 10 '
     'then "medium" else "small" end', CONTACT),
    ("expansion variable", '.[1] as $__mr0 | .[0] | (\n{email, list: $__mr0}\n)',
     [CONTACT, "42"]),
    ("paging exit rule", ".meta.page >= .meta.total_pages", PAGE),
    ("length + keys", "{n: (.data | length), k: (.meta | keys)}", PAGE),
]


def per_record(fn: Any, value: Any, records: int) -> float:
    start = time.perf_counter()
    for _ in range(records):
        fn(value)
    return (time.perf_counter() - start) / records * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'program':28} {'fast µs':>9} {'libjq µs':>9} {'ratio':>6}")
    ratios = []
    for name, text, value in PROGRAMS:
        fast = compile_program(text, "fast")
        assert isinstance(fast, FastProgram), f"{name}: not on the fast path"
        lib = jq.compile(text)
        expected = lib.input_value(value).all()
        assert fast.input_value(value).all() == expected, name
        run_fast = lambda v, p=fast: p.input_value(v).all()  # noqa: E731
        run_lib = lambda v, p=lib: p.input_value(v).first()  # noqa: E731
        f_us = min(per_record(run_fast, value, args.records) for _ in range(args.runs))
        l_us = min(per_record(run_lib, value, args.records) for _ in range(args.runs))
        assert fast.stats[1] == 0, f"{name}: fell back to libjq"
        ratios.append(f_us / l_us)
        print(f"{name:28} {f_us:9.2f} {l_us:9.2f} {f_us / l_us:6.2f}")
    ratios.sort()
    print(f"median ratio fast/libjq: {ratios[len(ratios) // 2]:.2f} "
          f"(worst {ratios[-1]:.2f}, best {ratios[0]:.2f})")


if __name__ == "__main__":
    main()
