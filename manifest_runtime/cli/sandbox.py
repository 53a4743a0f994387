"""`manifest-runtime sandbox contacts|tags|deals|accounts|fields [--format json]`: what the
embedded sandbox ActiveCampaign account in the state file holds (DESIGN §5, §6)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..activecampaign.listing import cell, listing
from .session import add_state_option, existing_state

KINDS = ("contacts", "tags", "deals", "accounts", "fields")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sandbox",
        help="list what the embedded sandbox ActiveCampaign account holds",
        description="List the contacts, tags, deals, accounts or contact fields of the sandbox "
        "ActiveCampaign account in the state file (where !resource writes by default).",
    )
    p.add_argument("kind", choices=KINDS, help="what to list")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="a table (default) or one JSON array")
    add_state_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:


    with existing_state(args.state) as state:
        path = state.path
        rows = listing(state.sandbox(), args.kind)
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print(table(rows) if rows else f"no {args.kind} in {path}")
    return 0


def table(rows: list[dict[str, Any]]) -> str:
    """Rows as aligned text columns (the union of their keys, in first-seen order)."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines)


