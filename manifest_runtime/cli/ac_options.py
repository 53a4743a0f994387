"""--ac-url / --ac-token: the ActiveCampaign account a command evaluates against (every
command that evaluates: eval, setup, run, poll, serve). Without them (and without their
environment variables or credentials-file entry, activecampaign/settings.py) it is the
sandbox in the state file."""

from __future__ import annotations

import argparse
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
    """The real account when one is configured, else the state file's sandbox
    (pipeline/opening.py `account`)."""
    from ..pipeline import opening
    from .http_options import http_options

    return opening.account(http_options(args), state, http, contact)


def target_key(ac: ActiveCampaign | None) -> str:
    """What a run's resume key adds for its account: "" for the sandbox (keys as before),
    "@URL" for a real account, so records delivered into the sandbox are not skipped as
    done when the same file then goes to a real account (or the reverse)."""
    url = getattr(ac, "url", None)
    return f"@{url}" if isinstance(url, str) else ""
