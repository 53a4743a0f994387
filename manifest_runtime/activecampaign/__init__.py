"""The ActiveCampaign account that `!resource` and `!http target: activecampaign` talk to.

`ActiveCampaign` is the narrow interface (types.py). `Account` (account.py) holds the rules
over a `Storage` (storage.py): `MemoryAccount` keeps records in memory (tests,
`--state :memory:`), `SandboxAccount` in the SQLite state file: the embedded sandbox that is
the default target (DESIGN §6). A real account through the v3 API would implement the same
Protocol.
"""

from __future__ import annotations

from .account import Account, MemoryAccount, SandboxAccount
from .types import ActiveCampaign

__all__ = ["Account", "ActiveCampaign", "MemoryAccount", "SandboxAccount"]
