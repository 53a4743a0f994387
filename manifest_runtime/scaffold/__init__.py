"""`manifest-runtime init`: a new manifest and everything around it, ready to validate, set
up, run and test offline. `files(answers, fmt)` gives the file names and texts; the CLI
writes them."""

from __future__ import annotations

import json
from typing import Literal

import yaml

from . import yamlout
from .templates import (
    KIND_HELP,
    KINDS,
    Answers,
    Kind,
    answers,
    cases,
    cassette,
    manifest,
    sample_records,
    slug,
)

Format = Literal["yaml", "json"]
FORMATS: tuple[Format, ...] = ("yaml", "json")

__all__ = ["FORMATS", "KINDS", "KIND_HELP", "Answers", "Format", "Kind", "files", "slug"]


def files(a: Answers, fmt: Format) -> dict[str, str]:
    """File name -> text, in the order they are written."""
    name = f"manifest.{fmt}"
    data = manifest(a)
    text = yamlout.dump(data) if fmt == "yaml" else json.dumps(data, indent=2) + "\n"
    records = "".join(json.dumps(r) + "\n" for r in sample_records(a))
    sample = "contacts.jsonl" if a.kind == "outbound" else "payloads.jsonl"
    return {
        name: text,
        "answers.yaml": _yaml(answers(a), _ANSWERS_HEAD.format(m=name)),
        sample: records,
        "tests.yaml": _yaml(cases(a, name), _CASES_HEAD.format(m=name)),
        "cassette.yaml": _yaml(cassette(a), _CASSETTE_HEAD),
        "README.md": readme(a, name, sample),
    }


def _yaml(data: object, head: str) -> str:
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


_ANSWERS_HEAD = """\
# Answers for a headless `manifest-runtime setup {m} --answers answers.yaml`:
# form field id -> value under custom_data; source field id -> target field id under mapping.
"""
_CASES_HEAD = """\
# Test cases: manifest-runtime test {m}   (--update writes the actual outputs)
# Each case runs one command (pointer by index or by name, see eval --list) and compares its
# output with expect (or its error code with expect_error). HTTP comes from the cassette.
"""
_CASSETTE_HEAD = """\
# SAMPLE answers written by `manifest-runtime init`, not recorded from the real API: they
# let setup, run and test work offline. Record the real ones with --record cassette.yaml
# (credentials are scrubbed) once the manifest talks to your API.
"""


def readme(a: Answers, manifest_name: str, sample: str) -> str:
    run = (f"manifest-runtime run {manifest_name} --contacts {sample} --replay cassette.yaml"
           if a.kind == "outbound" else
           f"manifest-runtime run {manifest_name} --input {sample}")
    if a.kind == "inbound-polling":
        run += f"\nmanifest-runtime poll {manifest_name} --once --replay cassette.yaml"
    return f"""# {a.title}

An ActiveCampaign App Studio manifest ({a.kind}: {KIND_HELP[a.kind]}), started with
`manifest-runtime init`. Everything below runs offline: `cassette.yaml` holds sample answers
of the API (replace them with a recording of the real one: `--record cassette.yaml`).

```sh
manifest-runtime validate {manifest_name}
manifest-runtime test {manifest_name}
manifest-runtime setup {manifest_name} --answers answers.yaml --replay cassette.yaml
{run}
manifest-runtime graph {manifest_name}
```

* `{manifest_name}`: the manifest; its `_comment`s (or `#` lines) say what each part does.
* `tests.yaml`: test cases (`manifest-runtime test`; `--update` writes the actual outputs).
* `answers.yaml`: the setup answers; `{sample}`: sample input for `run`.
* `manifest-runtime eval {manifest_name} --list` lists every command you can run alone.

Against the real API: put the token in a credentials file (`{a.name}-token: {{token: ...}}`)
and pass `--credentials FILE` instead of `--replay cassette.yaml`.
"""

