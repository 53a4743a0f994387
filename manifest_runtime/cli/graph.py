"""`manifest-runtime graph MANIFEST [--workflow NAME] [--format text|mermaid|html|json]`:
draw a manifest's workflows, setup steps, intakes and data pipelines."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import UsageError
from .output import print_json
from .session import compile_or_report


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "graph",
        help="draw a manifest: workflows, setup steps, intakes, pipelines",
        description="Draw each workflow: its setup steps with their form fields, its data "
        "intakes with their lifecycle commands, and its data_pipeline (source -> transform "
        "-> target), every command as a flow of its steps. text: an outline; mermaid: "
        "flowchart source (paste into any Mermaid viewer); html: a page that draws it "
        "offline (the mermaid library is inside it); json: the same structure for tools.",
    )
    p.add_argument("manifest", metavar="MANIFEST", help=".json, .yaml or .yml file")
    p.add_argument("--workflow", metavar="NAME", help="only this workflow")
    p.add_argument("--format", choices=("text", "mermaid", "html", "json"), default="text",
                   help="text (default), mermaid, html or json")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..graph import build, mermaid, page, text

    compiled = compile_or_report(args.manifest, json_errors=args.format == "json",
                                 command="graph")
    if compiled is None:
        return 1
    graph = build(compiled.data, args.manifest, args.workflow)
    if args.workflow is not None and not graph.workflows:
        from ..errors import choices_hint

        names = [str(w.get("name")) for w in compiled.data.get("workflows") or []
                 if isinstance(w, dict)]
        raise UsageError(f"no workflow {args.workflow!r}; "
                         f"{choices_hint(args.workflow, names, 'workflows')}")
    if args.format == "json":
        if args.output:
            raise UsageError("--output is for text, mermaid and html")
        print_json({"ok": True, **graph.as_json()})
        return 0
    out = {"text": text, "mermaid": mermaid}.get(args.format)
    drawn = out(graph) if out is not None else page(graph, mermaid(graph))
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(drawn)
        except OSError as exc:
            raise UsageError(f"--output {args.output}: cannot write it ({exc.strerror})") \
                from None
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(drawn)
    return 0
