"""The ActiveCampaign account that `!resource` and `!http target: activecampaign` talk to.

`ActiveCampaign` is the narrow interface; `MemoryAccount` an in-memory implementation for tests
and `eval`. The SQLite sandbox and the real v3 client implement the same Protocol.
"""

from __future__ import annotations

from .memory import MemoryAccount
from .types import ActiveCampaign

__all__ = ["ActiveCampaign", "MemoryAccount"]
