"""`!sha`: hash `value_to_encrypt` (hex digest; HMAC when a secret is given)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import choices_hint, describe
from ..expressions.evaluate import as_text
from ..model import Node
from ..runtime.errors import fail
from ..runtime.evaluate import evaluate
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext

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
    if not isinstance(algorithm, str):
        c.report("invalid-argument", f"!sha algorithm must be the name of an algorithm, got "
                 f"{describe(algorithm)}", (*path, "algorithm"),
                 hint=choices_hint("", ALGORITHMS, "algorithms"))
        return None
    if algorithm not in ALGORITHMS:
        # `SHA-256`, `sha3-256`: the usual spellings of names Python writes sha256, sha3_256
        spelt = algorithm.lower().replace("-", "_")
        guess = next((name for name in (spelt, spelt.replace("_", "")) if name in ALGORITHMS),
                     algorithm)
        c.report("invalid-argument", f"unknown !sha algorithm {algorithm!r}",
                 (*path, "algorithm"), hint=choices_hint(guess, ALGORITHMS, "algorithms"))
        return None
    secret = args.get("secret")
    if secret is not None and not isinstance(secret, str):
        c.report("invalid-argument", f"!sha secret must be a string, got {describe(secret)}",
                 (*path, "secret"))
        return None
    return ShaNode(algorithm, c.value(secret, (*path, "secret"), scope) if secret else None)


SHAKE_BYTES = 32


def run_sha(node: ShaNode, value: Any, ctx: EvalContext) -> Any:
    """`{value_to_encrypt, hash}`: the hex digest of value_to_encrypt (UTF-8; non-strings as
    compact JSON), HMAC-<algorithm> when a secret is given."""
    if not isinstance(value, dict) or "value_to_encrypt" not in value:
        raise fail("sha-input", f"!sha needs an object with value_to_encrypt, got "
                   f"{describe(value)}", hint='e.g. !jq "{value_to_encrypt: .body}" before it')
    original = value["value_to_encrypt"]
    data = as_text(original).encode("utf-8")
    secret = evaluate(node.secret, value, ctx) if node.secret is not None else None
    if secret is not None and secret != "":
        ctx.note("hmac", True)
        digest = _hmac_hex(node.algorithm, as_text(secret).encode("utf-8"), data)
    else:
        digest = _hex(hashlib.new(node.algorithm, data), node.algorithm)
    return {"value_to_encrypt": original, "hash": digest}


def _hex(h: Any, algorithm: str) -> str:
    return str(h.hexdigest(SHAKE_BYTES) if algorithm.startswith("shake_") else h.hexdigest())


def _hmac_hex(algorithm: str, key: bytes, data: bytes) -> str:
    if algorithm.startswith("shake_"):
        return _shake_hmac(algorithm, key, data)
    return hmac.new(key, data, algorithm).hexdigest()


def _shake_hmac(algorithm: str, key: bytes, data: bytes) -> str:
    """HMAC (RFC 2104) over a SHAKE XOF with a 32-byte output, block size from the rate."""
    block = 168 if algorithm == "shake_128" else 136
    if len(key) > block:
        key = hashlib.new(algorithm, key).digest(SHAKE_BYTES)  # type: ignore[call-arg]
    key = key.ljust(block, b"\0")
    inner = hashlib.new(algorithm, bytes(k ^ 0x36 for k in key) + data)
    inner_digest = inner.digest(SHAKE_BYTES)  # type: ignore[call-arg]
    outer = hashlib.new(algorithm, bytes(k ^ 0x5C for k in key) + inner_digest)
    return str(outer.hexdigest(SHAKE_BYTES))  # type: ignore[call-arg]


SPEC = CommandSpec("!sha", "hash value_to_encrypt (HMAC with a secret)", compile_sha, run_sha)
