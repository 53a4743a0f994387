"""The end of every subcommand's --help: examples and the exit codes that command can give."""

from __future__ import annotations

import argparse

AT = "examples/activetrail-contacts"
TW = "examples/twilio-sms"

EXAMPLES: dict[str, tuple[str, ...]] = {
    "init": (
        "manifest-runtime init acme-leads                  # asks on a terminal",
        "manifest-runtime init acme-leads --kind outbound --format json --dir acme",
    ),
    "validate": (
        "manifest-runtime validate examples/*/manifest.*",
        f"manifest-runtime validate {AT}/manifest.yaml --format json --strict",
    ),
    "eval": (
        f"manifest-runtime eval {AT}/manifest.yaml --list",
        f"manifest-runtime eval {AT}/manifest.yaml \\\n"
        "      /workflows/activetrail-member-to-contact/setup/connect/describe_connection \\\n"
        f"      --replay {AT}/cassette.yaml --trace",
        f"manifest-runtime eval {AT}/manifest.yaml /workflows/0/data_pipeline/source \\\n"
        "      --input '{\"member\": {\"email\": \"a@example.com\"}}' "
        "--custom-data '{\"tag\": \"vip\"}'",
    ),
    "test": (
        f"manifest-runtime test {AT}/manifest.yaml             # runs {AT}/tests.yaml",
        f"manifest-runtime test {AT}/manifest.yaml {AT}/tests.yaml --update",
        f"manifest-runtime test {TW}/manifest.json --format json",
    ),
    "graph": (
        f"manifest-runtime graph {AT}/manifest.yaml                 # text outline",
        f"manifest-runtime graph {TW}/manifest.json --format mermaid",
        f"manifest-runtime graph {AT}/manifest.yaml --format html > graph.html",
    ),
    "setup": (
        f"manifest-runtime setup {AT}/manifest.yaml --answers {AT}/answers.yaml \\\n"
        f"      --replay {AT}/cassette.yaml",
        "manifest-runtime setup manifest.yaml --credentials creds.yaml   # asks on a terminal",
    ),
    "run": (
        f"manifest-runtime run {AT}/manifest.yaml --input {AT}/payloads.jsonl",
        f"manifest-runtime run {TW}/manifest.json --contacts {TW}/contacts.jsonl --dry-run",
        "cat payloads.jsonl | manifest-runtime run manifest.yaml --input - --format json",
        "manifest-runtime run manifest.yaml --input big.jsonl --workers 2 --concurrency 8",
    ),
    "poll": (
        "manifest-runtime poll manifest.yaml --once",
        "manifest-runtime poll manifest.yaml --once --format json --quiet",
    ),
    "serve": (
        f"manifest-runtime serve {AT}/manifest.yaml --port 8787",
        "manifest-runtime serve manifest.yaml --public-url https://my-tunnel.example.net",
    ),
    "studio": (
        f"manifest-runtime studio {AT}/manifest.yaml --replay {AT}/cassette.yaml",
        "manifest-runtime studio manifest.yaml --port 8800 --credentials creds.yaml",
    ),
    "sandbox": (
        "manifest-runtime sandbox contacts",
        "manifest-runtime sandbox contacts --format json",
    ),
    "state": (
        "manifest-runtime state show",
        "manifest-runtime state show --format json",
        "manifest-runtime state copy --to postgresql://USER:PASSWORD@HOST/DB",
    ),
}

_USAGE = "  2    usage error (a bad option or argument, a missing file or setup)"
_STOP = "  130  stopped by Ctrl-C (SIGINT); 143: by SIGTERM"

EXIT_CODES: dict[str, tuple[str, ...]] = {
    "init": ("  0    files written", "  1    a file exists already (nothing is overwritten)",
             _USAGE, "  130  stopped at a question"),
    "validate": ("  0    every manifest valid (warnings allowed unless --strict)",
                 "  1    a manifest is invalid or cannot be read", _USAGE),
    "eval": ("  0    the command ran; its output is printed",
             "  1    the manifest is invalid, or the command failed (located error)", _USAGE),
    "test": ("  0    every case passed (or --update wrote them)",
             "  1    a case failed, or the manifest is invalid", _USAGE),
    "graph": ("  0    diagram printed", "  1    the manifest is invalid", _USAGE),
    "setup": ("  0    set up and saved in the state file",
              "  1    the manifest is invalid, a step failed or an answer is wrong", _USAGE,
              "  130  stopped at a question"),
    "run": ("  0    every record delivered (or skipped, done before)",
            "  1    a record failed (dead-lettered; the reasons are printed), or the manifest "
            "is invalid", _USAGE, _STOP,
            "  141  the output pipe closed early"),
    "poll": ("  0    every result delivered", "  1    a result or a lifecycle step failed, or "
             "the manifest is invalid", _USAGE, _STOP),
    "serve": ("  0    stopped cleanly (registration removed unless --keep-registration)",
              "  1    the manifest is invalid or registering the webhook failed", _USAGE,
              _STOP),
    "studio": ("  0    stopped by Ctrl-C", _USAGE + " (or the port is taken)"),
    "sandbox": ("  0    listed", _USAGE),
    "state": ("  0    shown (show), copied (copy)",
              "  1    the state cannot be opened (e.g. the PostgreSQL server is unreachable)",
              _USAGE),
}


def epilog(name: str, own: str | None = None) -> str | None:
    """The text after a subcommand's options: its own epilog (minus any examples it had),
    then examples and exit codes."""
    parts = [own.split("examples:", 1)[0].rstrip()] if own else []
    if name in EXAMPLES:
        parts.append("examples:\n" + "\n".join("  " + e for e in EXAMPLES[name]))
    if name in EXIT_CODES:
        parts.append("exit codes:\n" + "\n".join(EXIT_CODES[name]))
    text = "\n\n".join(p for p in parts if p)
    return text or None


class Formatter(argparse.HelpFormatter):
    """Prose paragraphs wrapped to the terminal; indented lines (examples, exit codes) and
    lines ending in ':' kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        prose: list[str] = []

        def flush() -> None:
            if prose:
                out.append(super(Formatter, self)._fill_text(" ".join(prose), width, indent))
                prose.clear()

        for line in text.splitlines():
            if line.startswith(" ") or line.endswith(":") or not line.strip():
                flush()
                out.append(indent + line if line.strip() else "")
            else:
                prose.append(line.strip())
        flush()
        return "\n".join(out)


def decorate(name: str, parser: argparse.ArgumentParser) -> None:
    """Give a subparser its examples and exit codes."""
    parser.epilog = epilog(name, parser.epilog)
    parser.formatter_class = Formatter
