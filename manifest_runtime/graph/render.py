"""Draw a Graph: an indented text outline, Mermaid flowchart source, or a self-contained HTML
page that renders the Mermaid in the browser with the mermaid library shipped in this package
(assets/mermaid.min.js.gz, MIT): no network needed."""

from __future__ import annotations

import gzip
import html
import itertools
from importlib.resources import files

from .model import Graph, Part, Step, Workflow

# ------------------------------------------------------------------ text


def text(graph: Graph) -> str:
    lines: list[str] = []
    for w in graph.workflows:
        lines.append(f"workflow {w.name}: {w.label} ({w.type}, auth {w.auth})")
        lines.append("  setup")
        for part in w.setup:
            _text_part(part, 2, lines)
        for intake in w.intakes:
            lines.append(f"  {intake.role} {intake.name} ({intake.type})")
            for part in intake.lifecycle:
                _text_part(part, 2, lines)
        lines.append("  data_pipeline")
        for part in w.pipeline:
            _text_part(part, 2, lines)
    return "\n".join(lines) + "\n"


def _text_part(part: Part, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    detail = f": {part.detail}" if part.detail else ""
    flow = f" = {_text_flow(part.flow)}" if part.flow is not None else ""
    lines.append(f"{pad}{part.name}{detail}{flow}")
    for inner in part.parts:
        _text_part(inner, depth + 1, lines)


def _text_flow(step: Step) -> str:
    if step.steps:
        return " -> ".join(_text_flow(s) for s in step.steps)
    if step.cases:
        return f"{step.label} [" + " | ".join(_text_flow(c) for c in step.cases) + "]"
    return step.label


# ------------------------------------------------------------------ mermaid


class _Mermaid:
    def __init__(self) -> None:
        self.lines: list[str] = ["flowchart TB"]
        self._ids = itertools.count(1)

    def node(self, label: str, shape: str = "rect", indent: int = 2) -> str:
        node_id = f"n{next(self._ids)}"
        text = _escape(label)
        opened, closed = {"rect": ("[", "]"), "round": ("(", ")"), "diamond": ("{", "}"),
                          "stadium": ("([", "])"), "db": ("[(", ")]")}[shape]
        self.lines.append(f"{' ' * indent}{node_id}{opened}\"{text}\"{closed}")
        return node_id

    def edge(self, a: str, b: str, label: str = "", dotted: bool = False,
             indent: int = 2) -> None:
        arrow = "-.->" if dotted else "-->"
        shown = f"|\"{_escape(label)}\"|" if label else ""
        self.lines.append(f"{' ' * indent}{a} {arrow}{shown} {b}")

    def open(self, title: str, indent: int, direction: str = "TB") -> str:
        sub_id = f"g{next(self._ids)}"
        self.lines.append(f"{' ' * indent}subgraph {sub_id}[\"{_escape(title)}\"]")
        self.lines.append(f"{' ' * indent}  direction {direction}")
        return sub_id

    def close(self, indent: int) -> None:
        self.lines.append(f"{' ' * indent}end")

    def flow(self, step: Step, indent: int) -> tuple[str, list[str]]:
        """Draw a command's flow; (its first node, its last nodes)."""
        if step.steps:
            first: str | None = None
            last: list[str] = []
            for s in step.steps:
                head, tail = self.flow(s, indent)
                for t in last:
                    self.edge(t, head, indent=indent)
                first = first or head
                last = tail
            if first is not None:
                return first, last
        if step.cases:
            decide = self.node(step.label, "diamond", indent)
            ends: list[str] = []
            for i, case in enumerate(step.cases):
                head, tail = self.flow(case, indent)
                self.edge(decide, head, f"case {i}", indent=indent)
                ends.extend(tail)
            return decide, ends
        shape = "db" if step.command in ("!resource", "!save") else "round"
        one = self.node(step.label, shape, indent)
        return one, [one]

    def part(self, part: Part, indent: int) -> tuple[str, list[str]]:
        label = part.name + (f"<br/>{part.detail}" if part.detail else "")
        head = self.node(label, "stadium" if part.flow is None else "rect", indent)
        tail = [head]
        if part.flow is not None:
            first, tail = self.flow(part.flow, indent)
            self.edge(head, first, indent=indent)
        for inner in part.parts:
            inner_head, _ = self.part(inner, indent)
            self.edge(head, inner_head, dotted=True, indent=indent)
        return head, tail


def _escape(text: str) -> str:
    """Mermaid label text: entity codes for the characters its parser or HTML would take."""
    out = text.replace("#", "#35;").replace('"', "#quot;").replace("<br/>", "\0")
    out = out.replace("<", "#lt;").replace(">", "#gt;")
    return out.replace("\0", "<br/>")


def mermaid(graph: Graph) -> str:
    m = _Mermaid()
    for w in graph.workflows:
        _workflow(m, w)
    return "\n".join(m.lines) + "\n"


def _workflow(m: _Mermaid, w: Workflow) -> None:
    m.open(f"workflow {w.name}: {w.label} ({w.type}, auth {w.auth})", 2)
    m.open("setup", 4, "TB")
    previous: str | None = None
    for part in w.setup:
        head, _ = m.part(part, 6)
        if previous is not None:
            m.edge(previous, head, indent=6)
        previous = head
    m.close(4)
    intake_ends: list[tuple[str, str]] = []
    for intake in w.intakes:
        m.open(f"{intake.role} {intake.name} ({intake.type})", 4)
        heads = [m.part(part, 6)[0] for part in intake.lifecycle]
        m.close(4)
        feeds = [h for h, p in zip(heads, intake.lifecycle, strict=True)
                 if p.name in ("request", "verification", "create")]
        if feeds:
            intake_ends.append((feeds[0], intake.type))
    m.open("data_pipeline", 4)
    last: list[str] = []
    source_head = None
    for part in w.pipeline:
        head, tail = m.part(part, 6)
        source_head = source_head or head
        for t in last:
            m.edge(t, head, indent=6)
        last = tail
    m.close(4)
    m.close(2)
    if source_head is not None:
        for feed, kind in intake_ends:
            m.edge(feed, source_head, "results" if kind == "polling" else "payloads",
                   dotted=True)
        if previous is not None:
            m.edge(previous, source_head, "saved setup", dotted=True)


# ------------------------------------------------------------------ html


def mermaid_js() -> str:
    """The shipped mermaid library (dist/mermaid.min.js of the npm package, gzipped)."""
    raw = files("manifest_runtime.graph").joinpath("assets/mermaid.min.js.gz").read_bytes()
    return gzip.decompress(raw).decode("utf-8")


# nothing from the network: scripts and styles are inline, images and fonts data: URLs
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'unsafe-inline'; img-src data:; font-src data:")


def page(graph: Graph, source: str) -> str:
    """A self-contained page: the Mermaid source, the library inline, no request made."""
    js = mermaid_js()
    if "</script" in js.lower():  # never cut the inline script short
        raise ValueError("the mermaid library contains '</script'")
    title = html.escape(f"manifest-runtime graph: {graph.file}")
    names = ", ".join(w.name for w in graph.workflows)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; }}
h1 {{ font-size: 1.2rem; }}
#status {{ color: #666; font-size: .85rem; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p id="status">workflows: {html.escape(names)}</p>
<pre class="mermaid" id="diagram">
{html.escape(source)}</pre>
<script>
{js}
</script>
<script>
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
mermaid.run({{querySelector: "#diagram"}}).then(
  function () {{ document.body.setAttribute("data-rendered", "yes"); }},
  function (err) {{
    document.body.setAttribute("data-rendered", "error");
    document.getElementById("status").textContent = "mermaid failed: " + err;
  }});
</script>
</body>
</html>
"""
