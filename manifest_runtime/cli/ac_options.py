"""--ac-url / --ac-token: the ActiveCampaign account a command evaluates against (every
command that evaluates: eval, setup, run, poll, serve). Without them (and without their
environment variables or credentials-file entry, activecampaign/settings.py) it is the
sandbox in the state file."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..activecampaign import ActiveCampaign
    from ..http.client import HttpClient
    from ..state import StateFile


def add_ac_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ac-url", metavar="URL",
                   help="a real ActiveCampaign account's API URL (e.g. https://NAME.api-us1"
                   ".com) instead of the sandbox; also $MANIFEST_RUNTIME_AC_URL "
                   "(docs/targets.md)")
    p.add_argument("--ac-token", metavar="TOKEN",
                   help="that account's API token; better $MANIFEST_RUNTIME_AC_TOKEN or "
                   "`activecampaign: {url, token}` in the --credentials file (a command "
                   "line is visible to other users of the machine)")


def account(args: argparse.Namespace, state: StateFile, http: HttpClient,
            contact: dict[str, Any] | None = None) -> ActiveCampaign:
    """The real account when one is configured (its calls go through `http`: retries,
    record/replay, trace, redaction), else the state file's sandbox."""
    from ..activecampaign.settings import account_settings
    from ..activecampaign.v3 import V3Account

    settings = account_settings(getattr(args, "ac_url", None), getattr(args, "ac_token", None),
                                getattr(args, "credentials", None), os.environ,
                                replaying=getattr(args, "replay", None) is not None)
    if settings is None:
        return state.sandbox(contact)
    http.redactor.add(settings.token)
    return V3Account(settings.url, settings.token, http, contact)


def target_key(ac: ActiveCampaign | None) -> str:
    """What a run's resume key adds for its account: "" for the sandbox (keys as before),
    "@URL" for a real account, so records delivered into the sandbox are not skipped as
    done when the same file then goes to a real account (or the reverse)."""
    url = getattr(ac, "url", None)
    return f"@{url}" if isinstance(url, str) else ""
