"""The expansion parser's fast path (common forms read with regular expressions, no Lark)
gives exactly Lark's result, and leaves everything else (every error included) to Lark.

Corpus: the inside of every `${...}` in the repository's examples, tests and docs, plus
generated variations of the grammar's pieces (spaces, separators, filters, arguments) and
near-misses that must fail."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from manifest_runtime.expressions.parser import _lark, _parse_fast, _to_dict

ROOT = Path(__file__).resolve().parents[2]
EXPANSION = re.compile(r"\$\{([^}]*)\}")


def repository_expansions() -> set[str]:
    found: set[str] = set()
    for folder in ("examples", "tests", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".yaml", ".yml", ".json", ".md", ".py") and path.is_file():
                found.update(EXPANSION.findall(path.read_text("utf-8", errors="replace")))
    return found


def generated() -> set[str]:
    refs = ["custom_data", "custom_data.tag.value", "data::x", "piped_content.0",
            "piped_content[0]", "a.b-c[12].d", "polling_state.page", "x[01]", "_a9.0"]
    filters = ["", "|default", " | default", "| default:", "|default:1", "| default: a b ",
               "|default:true", '|default:"x"', "|a|b", " | a : b | c", "|join:,",
               "|default:{}", "\t|\tx\t"]
    spaces = ["", " ", "\t", "  "]
    out = {f"{s}{r}{s}{f}" for r, f, s in itertools.product(refs, filters, spaces)}
    out |= {"", " ", "x.", "x..y", "x[", "x[a]", "x y", "x|", "x | ", "1x", "x-y", "x.y z",
            "x|1", "x:y", "x::", "x | a\n", "\nx", "x.y|default:a}", "é", "x.é", "x |: a"}
    return out


def lark_result(inner: str) -> dict[str, object] | None:
    try:
        return _to_dict(_lark().parse(inner))
    except Exception:
        return None


CORPUS = sorted(repository_expansions() | generated())


def test_the_corpus_is_real() -> None:
    assert len(repository_expansions()) > 50
    fast = [inner for inner in CORPUS if _parse_fast(inner) is not None]
    assert len(fast) > len(CORPUS) // 2  # the fast path does take the common forms


def test_fast_path_agrees_with_lark() -> None:
    wrong = [inner for inner in CORPUS
             if (fast := _parse_fast(inner)) is not None and fast != lark_result(inner)]
    assert wrong == []  # where it answers, the fast path answers as Lark; else Lark decides
