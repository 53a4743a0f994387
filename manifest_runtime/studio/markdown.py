"""Help texts (CommonMark, reference §2.5 and §5.2) rendered on the server, with raw HTML
escaped (markdown-it-py with html off) and only safe link schemes kept."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _renderer() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def markdown(text: str | None) -> str:
    """The HTML of a help text ('' for none). HTML in the text is shown, never run."""
    if not text:
        return ""
    rendered: str = _renderer().render(text)
    return rendered
