"""The map step (reference §5.2): the source and target options lists, and the mapping
answered between them (checked by mapping.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ManifestRuntimeError
from .mapping import Mapped, always_required, email_option, resolve_mapping
from .model import (
    MapOption,
    MapRequest,
    SetupError,
)
from .options import (
    OptionsShapeError,
    map_options,
)
from .values import as_dict, as_str

if TYPE_CHECKING:
    from .flow import SetupFlow


class MapStep:
    """Source and target options, then the mapping."""

    def __init__(self, flow: SetupFlow) -> None:
        self.flow = flow

    def map(self, custom_data: dict[str, Any], resource: Any) -> list[Mapped]:
        step = self.flow.steps.get("map")
        if not isinstance(step, dict):
            return []
        self.flow.answerer.begin("map", as_str(step.get("label")), None)
        while True:
            try:
                sources = self._map_options("describe_source", custom_data, resource)
                targets = self._map_options("describe_target", custom_data, resource)
                break
            except ManifestRuntimeError as exc:
                self.flow.recover(exc, [])  # try again, or quit
        if targets is None:
            self.flow.warn("the map step has no describe_target: target field ids are saved "
                      "unchecked")
        elif self.flow.inbound and email_option(targets) is None:
            self.flow.warn("no target option is the ActiveCampaign Email (id 'email'): inbound "
                      "records without an email cannot become contacts")
        request = MapRequest(
            label=as_str(step.get("label")) or "Map",
            source_label=as_str(as_dict(step.get("describe_source")).get("label")) or "Source",
            target_label=as_str(as_dict(step.get("describe_target")).get("label")) or "Target",
            sources=None if sources is None else tuple(sources),
            targets=None if targets is None else tuple(targets),
            required=always_required(targets, self.flow.inbound), inbound=self.flow.inbound)
        def once(_retry: bool) -> list[Mapped]:
            raw = self.flow.answerer.mapping(request)
            mapped = resolve_mapping(self.flow.answerer, request, raw)
            if isinstance(raw, dict) and raw:
                self.flow.answered["mapping"] = raw
            return mapped

        return self.flow.ask(once)

    def _map_options(self, side: str, custom_data: dict[str, Any], resource: Any
                     ) -> list[MapOption] | None:
        path = self.flow.path("map", side, "options")
        if self.flow.compiled.node_at(path) is None:
            return None
        try:
            return map_options(self.flow.evaluate(path, custom_data, resource))
        except OptionsShapeError as exc:
            raise SetupError(self.flow.located(
                "options-shape", f"the {side} options {exc}", path,
                hint="map options must output [{title: <shown text>, id: <field id>, "
                "required: <bool>}, ...]")) from None
