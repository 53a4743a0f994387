"""`manifest-runtime graph`: a manifest drawn as text, Mermaid, HTML or JSON."""

from __future__ import annotations

from .model import Graph, build
from .render import mermaid, page, text

__all__ = ["Graph", "build", "mermaid", "page", "text"]
