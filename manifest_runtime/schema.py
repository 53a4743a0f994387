"""Moved to `manifest_runtime.compile.schema`; this name is kept so that imports written
before the move still work. Import from the new place."""

from .compile.schema import check_schema, load_schema

__all__ = ["check_schema", "load_schema"]
