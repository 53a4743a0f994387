"""Compiled manifests remembered on disk, so that `run`, `poll`, `serve`, `eval`, `test`,
`graph` and `setup` of a manifest compiled before start without reading YAML, validating the
schema or compiling (start-up: PyYAML, jsonschema-rs and the compiler are not even imported).

An entry is the pickled CompiledManifest of one compile, stored under a SHA-256 of everything
the compile's result depends on:

* the manifest's bytes and its file name as given (diagnostics and the source map name it);
* this package's code and data: every `.py`, `.json` and `.lark` file under the package
  (path, size and modification time: the test Python's own bytecode cache makes of a source
  file; so an edited checkout is another key, as is another installed version);
* the libraries the compile consults: PyYAML, jsonschema-rs, python-jsonschema, the jq binding
  (libjq's verdicts on the programs) and Lark (their files' path, size, modification time),
  and the Python version.

The compile of a miss is made from the very bytes that were hashed. Only valid manifests are
stored (an invalid one compiles again each time, and reports as before); a file over the size
limit (MANIFEST_RUNTIME_MAX_BYTES) is compiled, so refused, as before, hit or not. The
directory is jqverdicts.py's (MANIFEST_RUNTIME_CACHE_DIR, else the user's cache directory),
created private to the user; an entry not owned by the user, or writable by others, is not
read. MANIFEST_RUNTIME_NO_CACHE=1 turns it off. Any failure to read or write an entry (a
damaged file, a read-only directory) is a miss, silently. At most KEEP entries are kept (the
oldest go first).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import threading
from importlib.util import find_spec
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import CompiledManifest

DIR_NAME = "compiled-v1"
KEEP = 64
SUFFIX = ".pickle"
LIBRARIES = ("yaml", "jsonschema_rs", "jsonschema", "jq", "lark")
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_CODE_FILES = (".py", ".json", ".lark")
_code: list[bytes] = []  # the code's fingerprint, made once per process


def load_and_compile(filename: str) -> CompiledManifest:
    """`compile.load_and_compile(filename)` (notes and nodes kept), from the cache when the
    same bytes under the same name were compiled by the same code before."""
    from .jqverdicts import NO_CACHE_VARIABLE

    if os.environ.get(NO_CACHE_VARIABLE, "").strip() not in ("", "0"):
        return _compile_file(filename)
    raw = _read(filename)
    if raw is None:  # not a readable file within the limit: the compile says why
        return _compile_file(filename)
    try:
        entry = _entry(raw, filename)
    except (OSError, ValueError):
        return _compile_file(filename)
    cached = _get(entry)
    if cached is not None:
        return cached
    from .compile.walk import compile_manifest, paused_gc
    from .source import load_bytes

    with paused_gc():
        compiled = compile_manifest(load_bytes(raw, filename))
    if compiled.valid:
        _put(entry, compiled)
    return compiled


def _compile_file(filename: str) -> CompiledManifest:
    from .compile.walk import load_and_compile as compile_file

    return compile_file(filename)


def _read(filename: str) -> bytes | None:
    """The file's bytes when it is a regular file within the size limit, else None."""
    from .errors import UsageError
    from .source import max_bytes

    try:
        limit = max_bytes()
        if not os.path.isfile(filename) or os.stat(filename).st_size > limit:
            return None  # a directory, a pipe, too large: as load_file does, it says why
        with open(filename, "rb") as f:
            raw = f.read(limit + 1)
    except (OSError, UsageError):
        return None
    return raw if len(raw) <= limit else None


def _entry(raw: bytes, filename: str) -> str:
    """The entry's path: the cache directory / the key's hex digest."""
    from .jqverdicts import cache_dir

    key = hashlib.sha256()
    for part in (_code_fingerprint(), filename.encode("utf-8", "surrogateescape"), raw):
        key.update(len(part).to_bytes(8, "big"))
        key.update(part)
    return os.path.join(cache_dir(), DIR_NAME, key.hexdigest() + SUFFIX)


def _code_fingerprint() -> bytes:
    """This package's files and the libraries' (path, size, mtime), and Python's version."""
    if not _code:
        parts = [sys.version, DIR_NAME]
        for path in _code_files(_PACKAGE):
            st = os.stat(path)
            parts.append(f"{os.path.relpath(path, _PACKAGE)}:{st.st_size}:{st.st_mtime_ns}")
        for name in LIBRARIES:
            spec = find_spec(name)
            origin = spec.origin if spec is not None else None
            if origin and os.path.exists(origin):
                st = os.stat(origin)
                parts.append(f"{name}={origin}:{st.st_size}:{st.st_mtime_ns}")
            else:
                parts.append(f"{name}=absent")
        _code.append("\0".join(parts).encode("utf-8", "surrogateescape"))
    return _code[0]


def _code_files(directory: str) -> list[str]:
    found: list[str] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir():
                if entry.name != "__pycache__":
                    found.extend(_code_files(entry.path))
            elif entry.name.endswith(_CODE_FILES):
                found.append(entry.path)
    return sorted(found)


def _get(entry: str) -> CompiledManifest | None:
    from .model import CompiledManifest

    try:
        with open(entry, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return None  # only the user's own entries, writable by nobody else
            value = pickle.loads(f.read())
    except FileNotFoundError:
        return None
    except Exception:  # a damaged or unreadable entry is a miss
        return None
    return value if isinstance(value, CompiledManifest) else None


def _put(entry: str, compiled: CompiledManifest) -> None:
    directory = os.path.dirname(entry)
    temporary = f"{entry}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        data = pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, entry)  # readers see the whole entry or none
        _prune(directory)
    except Exception:  # not stored: the next start compiles again
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _prune(directory: str) -> None:
    """Keep the KEEP newest entries."""
    entries = []
    with os.scandir(directory) as found:
        for e in found:
            if e.name.endswith(SUFFIX):
                entries.append((e.stat().st_mtime_ns, e.path))
    for _, path in sorted(entries)[:-KEEP]:
        with contextlib.suppress(OSError):
            os.unlink(path)
