"""`!sha`: hash `value_to_encrypt` (hex digest; HMAC when a secret is given)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..compiler import describe
from ..errors import choices_hint
from ..model import Node
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compiler import Compiler, Scope
    from ..paths import Path

ALGORITHMS = (
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384",
    "sha3_512", "shake_128", "shake_256", "blake2b", "blake2s",
)


@dataclass(frozen=True, slots=True)
class ShaNode:
    algorithm: str
    secret: Node | None


def compile_sha(raw: Any, path: Path, c: Compiler, scope: Scope) -> ShaNode | None:
    args = c.object_arg(raw, path, "!sha", {"algorithm": True, "secret": False})
    if args is None or "algorithm" not in args:
        return None
    algorithm = args["algorithm"]
    if algorithm not in ALGORITHMS:
        c.report("invalid-argument", f"unknown !sha algorithm {describe(algorithm)}",
                 (*path, "algorithm"), hint=choices_hint(str(algorithm), ALGORITHMS,
                                                         "algorithms"))
        return None
    secret = args.get("secret")
    if secret is not None and not isinstance(secret, str):
        c.report("invalid-argument", f"!sha secret must be a string, got {describe(secret)}",
                 (*path, "secret"))
        return None
    return ShaNode(algorithm, c.value(secret, (*path, "secret"), scope) if secret else None)


SPEC = CommandSpec("!sha", "hash value_to_encrypt (HMAC with a secret)", compile_sha)
