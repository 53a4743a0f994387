"""The ActiveCampaign account that `!resource` and `!http target: activecampaign` talk to.

`ActiveCampaign` is the narrow interface (types.py). `AccountRules` (rules.py) holds what
every account does the same way over a few primitive writes; `Account` (account.py) implements
them over a `Storage` (storage.py): `MemoryAccount` keeps records in memory (tests,
`--state :memory:`), `SandboxAccount` in the SQLite state file, the embedded sandbox that is
the default target (DESIGN §6). `V3Account` (v3.py) implements them through a real account's
v3 API (`--ac-url` + `--ac-token`, settings.py).
"""

from __future__ import annotations

from .account import Account, MemoryAccount, SandboxAccount
from .types import ActiveCampaign

__all__ = ["Account", "ActiveCampaign", "MemoryAccount", "SandboxAccount"]
