"""The command registry: every `!name` a manifest may use, as a plain dict."""

from __future__ import annotations

from . import error, extract, http, jq, pipe, print_c, resource, respond, save, sha, switch
from .base import CommandSpec

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        pipe.SPEC,
        http.SPEC,
        jq.SPEC,
        switch.SPEC,
        save.SPEC,
        error.SPEC,
        print_c.SPEC,
        extract.SPEC,
        resource.SPEC,
        sha.SPEC,
        respond.SPEC,
    )
}

__all__ = ["COMMANDS", "CommandSpec"]
