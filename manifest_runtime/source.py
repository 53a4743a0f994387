"""Read a manifest file (.json, .yaml, .yml) into plain data plus a map of source positions.

Nothing here raises a Python error for bad input: unreadable, empty, oversized, non-UTF-8,
syntactically broken or too deeply nested files raise `ManifestLoadError` with a line and
column. Duplicate keys are reported as diagnostics (the last value wins) so that validation can
show them together with every other problem.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from .errors import Diagnostic, ManifestLoadError, UsageError
from .paths import Path

MAX_BYTES = 10 * 1024 * 1024  # the default limit; MANIFEST_RUNTIME_MAX_BYTES overrides it
MAX_BYTES_VARIABLE = "MANIFEST_RUNTIME_MAX_BYTES"
MAX_DEPTH = 200
MAX_NODES = 2_000_000
MAX_ALIAS_VALUES = 100_000  # values YAML aliases may add (copies of anchored values)
COMMAND_TAGS_PREFIX = "!"

Position = tuple[int, int]  # 1-based line, 1-based column
Offsets = tuple[int, int]  # 0-based [start, end) character offsets in the text


@dataclass(frozen=True, slots=True)
class Place:
    """Where a diagnostic points: its start, its end (just after the last character; the
    same line and column + 1 when only a start is known) and the text of its start line."""

    line: int
    column: int
    end_line: int
    end_column: int
    snippet: str | None  # the source line of `line`; None when the text is unknown


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each object key) of a loaded manifest stands in its file.

    The YAML loader fills the position tables as it builds the data; JSON positions are
    found on demand (`JsonSourceMap`), only for the paths a diagnostic needs."""

    file: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    # For strings whose characters map 1:1 onto one source line: column of the first character.
    string_starts: dict[Path, Position] = field(default_factory=dict)
    value_ends: dict[Path, Position] = field(default_factory=dict)
    key_ends: dict[Path, Position] = field(default_factory=dict)
    text: str = field(default="", repr=False, compare=False)
    _lines: list[str] = field(default_factory=list, repr=False, compare=False)

    # -- the tables (JsonSourceMap computes them on demand)

    def value_position(self, path: Path) -> Position | None:
        return self.values.get(path)

    def key_position(self, path: Path) -> Position | None:
        return self.keys.get(path)

    def string_start(self, path: Path) -> Position | None:
        return self.string_starts.get(path)

    def value_end(self, path: Path) -> Position | None:
        return self.value_ends.get(path)

    def key_end(self, path: Path) -> Position | None:
        return self.key_ends.get(path)

    # -- queries

    def locate(self, path: Path, *, key: bool = False) -> Position | None:
        """Position of the node at `path`, else of its nearest located ancestor."""
        return self._nearest(path, key=key)[0]

    def _nearest(self, path: Path, *, key: bool) -> tuple[Position | None, Position | None]:
        """(start, end) of the key or value at `path`, else of its nearest located ancestor's
        value (end None when unknown)."""
        if key and path:
            start = self.key_position(path)
            if start is not None:
                return start, self.key_end(path)
        probe = path
        while True:
            start = self.value_position(probe)
            if start is not None:
                return start, self.value_end(probe)
            if not probe:
                return None, None
            probe = probe[:-1]

    def locate_in_string(self, path: Path, offset: int) -> Position | None:
        """Position of character `offset` of the string at `path` (the node when unknown)."""
        start = self.string_start(path)
        if start is not None:
            return (start[0], start[1] + offset)
        return self.locate(path)

    def line_text(self, line: int) -> str | None:
        """The text of 1-based line `line` (None when the text is unknown)."""
        if not self.text:
            return None
        if not self._lines:
            self._lines.extend(self.text.split("\n"))
        return self._lines[line - 1].rstrip("\r") if 0 < line <= len(self._lines) else None

    def place(self, path: Path, *, key: bool = False, span: tuple[int, int] | None = None
              ) -> Place | None:
        """Where a diagnostic about `path` points: the key (`key`), characters [start, end) of
        the string value (`span`, when they map onto the file), or the value."""
        if span is not None:
            first = self.string_start(path)
            if first is not None:
                line, column = first[0], first[1] + span[0]
                return Place(line, column, line, column + max(1, span[1] - span[0]),
                             self.line_text(line))
        start, end = self._nearest(path, key=key)
        if start is None:
            return None
        if end is None or end <= start:
            end = (start[0], start[1] + 1)
        # a span inside a string that does not map onto the file (escapes, a block scalar):
        # no file snippet; the report shows the string itself with the caret
        snippet = self.line_text(start[0]) if span is None else None
        return Place(start[0], start[1], end[0], end[1], snippet)


@dataclass(frozen=True)
class LoadedManifest:
    """Plain JSON-like data, its positions, and load-time problems (duplicate keys)."""

    data: Any
    source: SourceMap
    text: str
    diagnostics: tuple[Diagnostic, ...] = ()


def max_bytes() -> int:
    """The size limit of a manifest file: MANIFEST_RUNTIME_MAX_BYTES (read now, not at import),
    else MAX_BYTES. An unset or empty variable means the default; anything but a positive
    whole number of bytes is a UsageError naming the variable."""
    raw = os.environ.get(MAX_BYTES_VARIABLE, "").strip()
    if not raw:
        return MAX_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(
            f"{MAX_BYTES_VARIABLE} must be a positive whole number of bytes, got {raw!r} "
            f"(unset it for the default of {MAX_BYTES})"
        )
    return value


def load_file(filename: str) -> LoadedManifest:
    """Read and parse a manifest file. Raises ManifestLoadError with a location, or
    UsageError when MANIFEST_RUNTIME_MAX_BYTES is not a positive whole number."""
    limit = max_bytes()
    fs_path = FsPath(filename)
    try:
        size = fs_path.stat().st_size
        if fs_path.is_dir():
            raise _load_error(filename, "load", f"{filename} is a directory, not a manifest file")
    except FileNotFoundError as exc:
        raise _load_error(filename, "load", f"no such file: {filename}") from exc
    except OSError as exc:
        raise _load_error(filename, "load", f"cannot read {filename}: {exc.strerror}") from exc
    if size > limit:
        raise _load_error(
            filename,
            "too-large",
            f"the file is {_size(size)}; manifests are limited to {_size(limit)}",
            hint="a real App Studio configuration is a few kilobytes; check that this is the "
            "right file (or raise MANIFEST_RUNTIME_MAX_BYTES)",
        )
    try:
        raw = fs_path.read_bytes()
    except OSError as exc:
        raise _load_error(filename, "load", f"cannot read {filename}: {exc.strerror}") from exc
    return load_bytes(raw, filename)


def _size(n: int) -> str:
    """A byte count for a message: whole MiB as "10 MiB", other large sizes as "50.3 MiB",
    small ones in bytes (a small limit shown as "0.0 MiB" would say nothing)."""
    if n >= 2**20:
        return f"{n // 2**20} MiB" if n % 2**20 == 0 else f"{n / 2**20:.1f} MiB"
    return f"{n:,} bytes"


def load_bytes(raw: bytes, filename: str) -> LoadedManifest:
    text = _decode(raw, filename)
    if not text.strip():
        raise _load_error(
            filename,
            "empty",
            "the manifest is empty",
            hint='a manifest is an object such as {"$version": "2", "auth": {...}, '
            '"workflows": [...]}',
            line=1,
            column=1,
            text=text,
        )
    suffix = FsPath(filename).suffix.lower()
    parser = _PARSERS.get(suffix)
    if parser is None:
        raise _load_error(
            filename,
            "load",
            f"unsupported file type {suffix or '(none)'!r}",
            hint="manifests are .json, .yaml or .yml files",
        )
    return parser(text, filename)


def _decode(raw: bytes, filename: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _load_error(
            filename,
            "encoding",
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            hint="save the manifest as UTF-8",
            line=line,
            column=column,
            text=raw.decode("utf-8", errors="replace"),
        ) from exc
    return text.removeprefix("\ufeff")


def _load_error(
    filename: str,
    code: str,
    message: str,
    *,
    hint: str | None = None,
    line: int | None = None,
    column: int | None = None,
    text: str | None = None,
    notes: tuple[str, ...] = (),
) -> ManifestLoadError:
    """A located load problem; with the file's `text`, it shows the source line."""
    snippet = None
    if text is not None and line is not None:
        lines = text.split("\n", line)
        snippet = lines[line - 1].rstrip("\r") if line <= len(lines) else None
    end = column + 1 if column is not None else None
    return ManifestLoadError(
        Diagnostic(code=code, message=message, hint=hint, file=filename, line=line, column=column,
                   end_line=line if end is not None else None, end_column=end,
                   snippet=snippet, notes=notes)
    )


# --------------------------------------------------------------------------- JSON

_WS = re.compile(r"[ \t\n\r]*")
_TOKEN = re.compile(
    r'(?P<s>"(?:[^"\\\x00-\x1f]|\\.)*")'
    r"|(?P<p>[{}\[\]:,])"
    r"|(?P<n>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![0-9A-Za-z_.]))"
    r"|(?P<l>true|false|null)(?![0-9A-Za-z_])"
)
_LITERALS: dict[str, object] = {"true": True, "false": False, "null": None}
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)")


class _JsonParser:
    """An iterative JSON parser that records the position of every value and key.

    Iterative (an explicit stack), so deep nesting gives a located error instead of a
    RecursionError; duplicate keys are recorded, not fatal.
    """

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.pos = 0
        self.lines = [m.end() for m in re.finditer("\n", text)]
        self.source = SourceMap(filename)
        self.diagnostics: list[Diagnostic] = []

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self.lines, offset)
        start = self.lines[line - 1] if line else 0
        return (line + 1, offset - start + 1)

    def fail(self, message: str, offset: int, hint: str | None = None) -> ManifestLoadError:
        line, column = self.position(offset)
        return _load_error(
            self.filename, "syntax", message, hint=hint, line=line, column=column, text=self.text
        )

    def token(self) -> tuple[str, str, int]:
        """Next token as (kind, text, offset); kind is 's', 'p', 'n', 'l' or 'eof'."""
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
        start = self.pos
        if start >= len(self.text):
            return ("eof", "", start)
        m = _TOKEN.match(self.text, start)
        if m is None:
            raise self.fail(self._bad_char_message(start), start, self._bad_char_hint(start))
        self.pos = m.end()
        kind = m.lastgroup or "p"
        return (kind, m.group(), start)

    def _bad_char_message(self, offset: int) -> str:
        ch = self.text[offset]
        if ch == '"':
            return "unterminated string (or a control character inside it)"
        word = re.match(r"[^\s,:\[\]{}]+", self.text[offset:])
        return f"unexpected {word.group() if word else ch!r}"

    def _bad_char_hint(self, offset: int) -> str | None:
        ch = self.text[offset]
        if ch == "'":
            return "JSON strings use double quotes"
        if ch in "/#":
            return "JSON has no comments; use a \"_comment\" key"
        if ch == '"':
            return "newlines and tabs inside JSON strings must be written \\n and \\t"
        return None

    def scalar(self, kind: str, text: str, offset: int) -> object:
        if kind == "s":
            return text[1:-1] if "\\" not in text else self._decode_string(text, offset)
        if kind == "l":
            return _LITERALS[text]
        if "." in text or "e" in text or "E" in text:
            return float(text)
        return int(text)

    def _decode_string(self, text: str, offset: int) -> str:
        try:
            value: str = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.fail(f"invalid escape in string: {exc.msg}", offset + exc.pos) from exc
        if _SURROGATE.search(value):
            raise self._lone_surrogate(text, offset)
        return value

    def _lone_surrogate(self, text: str, offset: int) -> ManifestLoadError:
        """The located error for a `\\uD800`-`\\uDFFF` escape that is not half of a pair
        (Python would keep it as is, and such a string can never be printed or encoded)."""
        codes = [(m, int(m.group(1), 16) if m.group(1) else -1) for m in _ESCAPE.finditer(text)]
        i = 0
        while i < len(codes):
            m, code = codes[i]
            i += 1
            if not 0xD800 <= code <= 0xDFFF:
                continue
            if code <= 0xDBFF and i < len(codes):
                low, low_code = codes[i]
                if low.start() == m.end() and 0xDC00 <= low_code <= 0xDFFF:
                    i += 1  # a well-formed pair
                    continue
            line, column = self.position(offset + m.start())
            return _load_error(
                self.filename,
                "encoding",
                f"invalid unicode escape {m.group()} (a lone surrogate)",
                hint="\\ud800-\\udfff escapes come in pairs, a high one (\\ud800-\\udbff) "
                "then a low one (\\udc00-\\udfff), e.g. \\ud83d\\ude00",
                line=line,
                column=column,
                text=self.text,
            )
        return self.fail("invalid unicode escape (a lone surrogate)", offset)

    def record(self, path: Path, kind: str, text: str, offset: int) -> None:
        line, column = self.position(offset)
        self.source.values[path] = (line, column)
        if kind == "s" and "\\" not in text:
            self.source.string_starts[path] = (line, column + 1)

    def parse(self) -> Any:
        # Each frame: [container, path, open_offset]
        stack: list[tuple[Any, Path, int]] = []
        root: Any = None
        kind, text, offset = self.token()
        key: str | None = None
        while True:
            # -- a value is expected here: (kind, text, offset)
            path: Path = ()
            if stack:
                container, parent, _ = stack[-1]
                path = (*parent, key or "") if isinstance(container, dict) else (
                    *parent, len(container))
            if kind == "eof":
                raise self._eof(stack)
            if kind == "p" and text in "{[":
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(
                        f"nesting deeper than {MAX_DEPTH} levels",
                        offset,
                        "a manifest is a few levels deep; this file is probably generated or "
                        "corrupt",
                    )
                value: Any = {} if text == "{" else []
            elif kind == "p":
                raise self.fail(f"expected a value, found {text!r}", offset, self._value_hint(text))
            else:
                value = self.scalar(kind, text, offset)
            self.record(path, kind, text, offset)
            if stack:
                container = stack[-1][0]
                if isinstance(container, dict):
                    assert key is not None
                    self._check_duplicate(container, key, path)
                    container[key] = value
                else:
                    container.append(value)
            else:
                root = value
            if isinstance(value, dict | list):
                stack.append((value, path, offset))
                kind, text, offset = self.token()
                closer = "}" if isinstance(value, dict) else "]"
                if kind == "p" and text == closer:
                    stack.pop()
                    # fall through to "after a value"
                elif isinstance(value, dict):
                    key, kind, text, offset = self._key(kind, text, offset, path)
                    continue
                else:
                    continue
            # -- after a value: a comma, a closer, or the end
            while True:
                kind, text, offset = self.token()
                if not stack:
                    if kind != "eof":
                        raise self.fail(
                            f"unexpected {text!r} after the end of the manifest",
                            offset,
                            "a manifest holds exactly one JSON object",
                        )
                    return root
                container, parent, open_offset = stack[-1]
                closer = "}" if isinstance(container, dict) else "]"
                if kind == "p" and text == closer:
                    stack.pop()
                    continue
                if kind == "p" and text == ",":
                    kind, text, offset = self.token()
                    if isinstance(container, dict):
                        key, kind, text, offset = self._key(kind, text, offset, parent)
                    elif kind == "p" and text == "]":
                        raise self.fail("trailing comma before ']'", offset,
                                        "JSON does not allow a comma after the last item")
                    break
                if kind == "eof":
                    raise self._eof(stack)
                line, column = self.position(open_offset)
                raise self.fail(
                    f"expected ',' or '{closer}', found {text!r}",
                    offset,
                    f"the {'object' if closer == '}' else 'array'} opened at line {line}, "
                    f"column {column} is not closed here; is a comma missing?",
                )

    def _key(
        self, kind: str, text: str, offset: int, parent: Path
    ) -> tuple[str, str, str, int]:
        if kind == "p" and text == "}":
            raise self.fail("trailing comma before '}'", offset,
                            "JSON does not allow a comma after the last member")
        if kind != "s":
            raise self.fail(
                f"expected a \"quoted\" key, found {text or 'the end of the file'!r}",
                offset,
                "object keys are double-quoted strings",
            )
        key = str(self.scalar(kind, text, offset))
        self.source.keys[(*parent, key)] = self.position(offset)
        kind2, text2, offset2 = self.token()
        if not (kind2 == "p" and text2 == ":"):
            raise self.fail(f"expected ':' after key {key!r}", offset2)
        kind3, text3, offset3 = self.token()
        return key, kind3, text3, offset3

    def _check_duplicate(self, container: dict[str, Any], key: str, path: Path) -> None:
        if key in container:
            line, column = self.source.keys[path]
            self.diagnostics.append(_duplicate(self.filename, path, line, column,
                                               len(json.dumps(key)), self.text))

    def _value_hint(self, text: str) -> str | None:
        if text in "}]":
            return "a trailing comma, or a value is missing"
        return None

    def _eof(self, stack: list[tuple[Any, Path, int]]) -> ManifestLoadError:
        if not stack:
            return self.fail("unexpected end of file: a value is missing", len(self.text))
        container, _, open_offset = stack[-1]
        line, column = self.position(open_offset)
        what = "object" if isinstance(container, dict) else "array"
        return self.fail(
            f"unexpected end of file: the {what} opened at line {line}, column {column} is "
            "not closed",
            len(self.text),
            "the file looks truncated",
        )


def _duplicate(filename: str, path: Path, line: int, column: int, width: int, text: str
               ) -> Diagnostic:
    """The duplicate key at line:column, `width` characters long, in the file's `text`."""
    lines = text.split("\n", line)
    return Diagnostic(
        code="duplicate-key",
        message=f"duplicate key {path[-1]!r}",
        path=path,
        hint="a key may appear once per object; the later value would silently win",
        file=filename,
        line=line,
        column=column,
        end_line=line,
        end_column=column + max(1, width),
        snippet=lines[line - 1].rstrip("\r") if line <= len(lines) else None,
    )


def parse_json(text: str, filename: str) -> LoadedManifest:
    """Read JSON at C speed (`json.loads`); positions are found later, only where needed.

    The careful parser (`_JsonParser`, Python, every token) runs only when the fast read
    fails or sees something to report: a syntax error, `NaN`/`Infinity`, a lone surrogate
    escape, a duplicate key, nesting deeper than MAX_DEPTH; it locates the problem."""
    duplicates = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicates
        out = dict(items)
        if len(out) != len(items):
            duplicates = True
        return out

    data: Any = None
    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=_no_constant)
        fast = not duplicates and not _LONE_SURROGATE_ESCAPE.search(text) and \
            _depth(data) <= MAX_DEPTH
    except (ValueError, RecursionError):
        fast = False
    source = JsonSourceMap(filename, text=text)
    if fast:
        return LoadedManifest(data, source, text)
    parser = _JsonParser(text, filename)
    data = parser.parse()  # raises the located error, or finds the duplicate keys
    return LoadedManifest(data, source, text, tuple(parser.diagnostics))


_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # any surrogate escape: check it


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(data: Any) -> int:
    """How deeply containers nest in `data` (a scalar: 0), without recursion."""
    deepest = 0
    stack = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in value.values() if type(value) is dict else value:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return deepest


_JSON_WS = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True)
class JsonSourceMap(SourceMap):
    """Positions in a JSON text, found on demand: to locate `/workflows/7/setup`, the members
    of the root, then of `workflows`, then of its item 7 are listed once (each skipped value
    read by the C JSON scanner), so a valid manifest costs nothing and a diagnostic costs
    the containers on its path. Offsets become line:column through an index of line starts
    built on first use."""

    _offsets: dict[Path, Offsets] = field(default_factory=dict, repr=False, compare=False)
    _key_offsets: dict[Path, Offsets] = field(default_factory=dict, repr=False, compare=False)
    _listed: set[Path] = field(default_factory=set, repr=False, compare=False)
    _line_starts: list[int] = field(default_factory=list, repr=False, compare=False)

    def value_position(self, path: Path) -> Position | None:
        found = self._value(path)
        return self._position(found[0]) if found else None

    def value_end(self, path: Path) -> Position | None:
        found = self._value(path)
        return self._position(found[1]) if found else None

    def key_position(self, path: Path) -> Position | None:
        found = self._key(path)
        return self._position(found[0]) if found else None

    def key_end(self, path: Path) -> Position | None:
        found = self._key(path)
        return self._position(found[1]) if found else None

    def string_start(self, path: Path) -> Position | None:
        found = self._value(path)
        if found is None or self.text[found[0]] != '"':
            return None
        if "\\" in self.text[found[0] : found[1]]:
            return None  # escapes: characters do not map 1:1
        return self._position(found[0] + 1)

    # -- offsets

    def _value(self, path: Path) -> Offsets | None:
        if not path:
            start = _JSON_WS.match(self.text).end()  # type: ignore[union-attr]
            return (start, len(self.text.rstrip())) if start < len(self.text) else None
        found = self._offsets.get(path)
        if found is None and path[:-1] not in self._listed:
            parent = self._value(path[:-1])
            if parent is not None:
                self._list(path[:-1], parent[0])
            found = self._offsets.get(path)
        return found

    def _key(self, path: Path) -> Offsets | None:
        if path and path[:-1] not in self._listed:
            self._value(path)
        return self._key_offsets.get(path)

    def _list(self, path: Path, start: int) -> None:
        """Record the offsets of the members (keys and values) or items of the container at
        `start`. A duplicate key keeps its last occurrence, as the data does."""
        self._listed.add(path)
        text, ws = self.text, _JSON_WS
        scan = _SCAN_ONCE
        opener = text[start]
        if opener not in "{[":
            return
        i = ws.match(text, start + 1).end()  # type: ignore[union-attr]
        closer = "}" if opener == "{" else "]"
        index = 0
        try:
            while i < len(text) and text[i] != closer:
                if opener == "{":
                    key, key_end = _SCANSTRING(text, i + 1)
                    child: Path = (*path, key)
                    self._key_offsets[child] = (i, key_end)
                    i = ws.match(text, key_end).end() + 1  # type: ignore[union-attr]
                    i = ws.match(text, i).end()  # type: ignore[union-attr]
                else:
                    child = (*path, index)
                    index += 1
                _, end = scan(text, i)
                self._offsets[child] = (i, end)
                i = ws.match(text, end).end()  # type: ignore[union-attr]
                if i < len(text) and text[i] == ",":
                    i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
        except (StopIteration, ValueError, RecursionError):
            return  # not JSON after all (the loader would have said so): positions unknown

    def _position(self, offset: int) -> Position:
        starts = self._line_starts
        if not starts:
            starts.append(0)
            starts.extend(m.end() for m in re.finditer("\n", self.text))
        line = bisect.bisect_right(starts, offset)
        return (line, offset - starts[line - 1] + 1)


# the C scanners behind json.loads: one value from an offset -> (value, end); one string body
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = \
    json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_SCANSTRING: Callable[[str, int], tuple[str, int]] = \
    json.decoder.scanstring  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- YAML


def parse_yaml(text: str, filename: str) -> LoadedManifest:
    """source_yaml.py's; PyYAML loads with the first YAML manifest read (start-up: a JSON
    manifest, or a compiled manifest from the cache, never imports it)."""
    from .source_yaml import parse_yaml as parse

    return parse(text, filename)


_PARSERS: dict[str, Callable[[str, str], LoadedManifest]] = {
    ".json": parse_json,
    ".yaml": parse_yaml,
    ".yml": parse_yaml,
}
