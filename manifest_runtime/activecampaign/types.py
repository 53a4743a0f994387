"""The ActiveCampaign interface (DESIGN §4 `!resource`, §6 sandbox or real account).

Implemented by the sandbox (`account.Account`: `MemoryAccount`, `SandboxAccount`) and by a
real account through the v3 API (`v3.V3Account`), both over `rules.AccountRules`. Everything
`!resource` and `!http {target: activecampaign}` do goes through these methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..http.types import HttpResponse

if TYPE_CHECKING:
    from .storage import CustomField


class ActiveCampaign(Protocol):
    """What the runtime needs from an ActiveCampaign account, nothing more.

    Field lists (`contact_fields`, `all_fields`, ...) return items that carry both map-option
    keys `{id, title, required}` and select-option keys `{value, display}` (DESIGN §4).
    Failures raise `EvaluationError`.
    """

    @property
    def custom_fields(self) -> tuple[CustomField, ...]:
        """The account's custom contact fields (ids, titles, personalization tags)."""
        ...

    def current_contact(self) -> dict[str, Any] | None:
        """The contact being processed (outbound source), or None when there is none."""
        ...

    def contact_fields(self) -> list[dict[str, Any]]:
        """`ActiveCampaignContact.fields`: standard fields, then custom fields."""
        ...

    def account_fields(self) -> list[dict[str, Any]]:
        """`ActiveCampaignAccount.fields`."""
        ...

    def deal_fields(self) -> list[dict[str, Any]]:
        """`ActiveCampaignDeal.fields`."""
        ...

    def all_fields(self) -> list[dict[str, Any]]:
        """`ActiveCampaign.fields`: contact, account and deal fields as grouped map options
        (`group`), with `source_fields` where the user picks a fixed value."""
        ...

    def upsert_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create or update a contact by email; `_tags` (a list of tags, or one string as one
        tag) are applied. Anything else in `_tags`, or an unknown field, is an error raised
        before anything is written; an email the v3 API refuses fails with its 422 answer
        (errors.py). Returns the contact."""
        ...

    def sync(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`ActiveCampaign.sync`: contact/account/deal/customObjects in one payload; a failing
        part does not fail the others (its error is listed, and reported as an ignored key);
        all failing is an error. A top-level `_tags` tags the contact; any other key no record
        takes is reported (ignored.py)."""
        ...

    def account_sync(self, data: dict[str, Any]) -> dict[str, Any]:
        """`ActiveCampaignAccount.sync`: upsert `data.account` by name -> {account_id}."""
        ...

    def deal_sync(self, data: dict[str, Any]) -> dict[str, Any]:
        """`ActiveCampaignDeal.sync`: create `data.deal`, update when it has an id -> {deal_id}."""
        ...

    def api(self, method: str, path: str, params: dict[str, Any] | None, body: Any
            ) -> HttpResponse:
        """One v3 API call (`!http target: activecampaign`), path relative like `api/3/tags`."""
        ...
