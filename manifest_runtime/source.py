"""Read a manifest file (.json, .yaml, .yml) into plain data plus a map of source positions.

Nothing here raises a Python error for bad input: unreadable, empty, oversized, non-UTF-8,
syntactically broken or too deeply nested files raise `ManifestLoadError` with a line and
column. Duplicate keys are reported as diagnostics (the last value wins) so that validation can
show them together with every other problem.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from .errors import Diagnostic, ManifestLoadError, UsageError
from .paths import Path

MAX_BYTES = 10 * 1024 * 1024  # the default limit; MANIFEST_RUNTIME_MAX_BYTES overrides it
MAX_BYTES_VARIABLE = "MANIFEST_RUNTIME_MAX_BYTES"
MAX_DEPTH = 200
MAX_NODES = 2_000_000
MAX_ALIAS_VALUES = 100_000  # values YAML aliases may add (copies of anchored values)
COMMAND_TAGS_PREFIX = "!"

Position = tuple[int, int]  # 1-based line, 1-based column


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each object key) of a loaded manifest stands in its file."""

    file: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    # For strings whose characters map 1:1 onto one source line: column of the first character.
    string_starts: dict[Path, Position] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Position | None:
        """Position of the node at `path`, else of its nearest located ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        probe = path
        while True:
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def locate_in_string(self, path: Path, offset: int) -> Position | None:
        """Position of character `offset` of the string at `path` (the node when unknown)."""
        start = self.string_starts.get(path)
        if start is not None:
            return (start[0], start[1] + offset)
        return self.locate(path)


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
) -> ManifestLoadError:
    return ManifestLoadError(
        Diagnostic(code=code, message=message, hint=hint, file=filename, line=line, column=column)
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
            self.filename, "syntax", message, hint=hint, line=line, column=column
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
            self.diagnostics.append(_duplicate(self.filename, path, line, column))

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


def _duplicate(filename: str, path: Path, line: int, column: int) -> Diagnostic:
    return Diagnostic(
        code="duplicate-key",
        message=f"duplicate key {path[-1]!r}",
        path=path,
        hint="a key may appear once per object; the later value would silently win",
        file=filename,
        line=line,
        column=column,
    )


def parse_json(text: str, filename: str) -> LoadedManifest:
    parser = _JsonParser(text, filename)
    data = parser.parse()
    return LoadedManifest(data, parser.source, text, tuple(parser.diagnostics))


# --------------------------------------------------------------------------- YAML

_SCALAR_CONSTRUCTOR = yaml.SafeLoader("")  # used only for its scalar resolution
_STANDARD_TAG = "tag:yaml.org,2002:"
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_MERGE_TAG = _STANDARD_TAG + "merge"
_ANCHOR = re.compile(r"&([^\s,\[\]{}]+)")


class _YamlBuilder:
    """Turns a composed YAML node graph into JSON-like data with positions.

    Command tags (`!jq`, `!pipe`, ...) become `{"!jq": ...}`. The composed graph shares one node
    for an anchor and all its aliases; `measure` sizes the expansion first (memoized per node,
    so an alias bomb is refused at once, not after building millions of values) and refuses an
    alias inside its own anchored value.
    """

    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.lines = text.split("\n")
        self.source = SourceMap(filename)
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.reported: set[int] = set()  # ids of duplicate key nodes already reported

    def fail(self, message: str, node: yaml.Node, hint: str | None = None) -> ManifestLoadError:
        mark = node.start_mark
        return _load_error(
            self.filename, "syntax", message, hint=hint, line=mark.line + 1,
            column=mark.column + 1
        )

    # ------------------------------------------------------------------ expansion size

    def measure(self, root: yaml.Node) -> None:
        """Refuse recursive aliases and alias bombs before building anything."""
        sizes: dict[int, int] = {}  # id(node) -> values it expands to
        open_nodes: set[int] = set()  # on the current descent: seeing one again is a cycle
        reuse: dict[int, tuple[int, yaml.Node]] = {}  # id -> (values added by aliases, node)

        def size(node: yaml.Node, depth: int) -> int:
            key = id(node)
            if key in open_nodes:
                raise self._recursive(node)
            known = sizes.get(key)
            if known is not None:  # an alias: the anchored value once more
                added, _ = reuse.get(key, (0, node))
                reuse[key] = (added + known, node)
                return known
            if depth > MAX_DEPTH:
                raise self.fail(f"nesting deeper than {MAX_DEPTH} levels", node)
            open_nodes.add(key)
            total = 1
            if isinstance(node, yaml.MappingNode):
                total += sum(size(value, depth + 1) for _, value in node.value)
            elif isinstance(node, yaml.SequenceNode):
                total += sum(size(item, depth + 1) for item in node.value)
            open_nodes.discard(key)
            sizes[key] = total
            return total

        total = size(root, 0)
        added = total - len(sizes)
        if added > MAX_ALIAS_VALUES:
            _, node = max(reuse.values(), key=lambda item: item[0])
            raise self.fail(
                f"aliases expand the manifest to {total:,} values (an alias bomb?); at most "
                f"{MAX_ALIAS_VALUES:,} may come from aliases",
                node,
                "each alias (*name) copies the value anchored here; a manifest needs few",
            )
        if total > MAX_NODES:
            raise self.fail(f"more than {MAX_NODES:,} values", root)

    def _recursive(self, node: yaml.Node) -> ManifestLoadError:
        mark = node.start_mark
        line = self.lines[mark.line] if mark.line < len(self.lines) else ""
        anchor = _ANCHOR.match(line, mark.column)
        name = f" *{anchor.group(1)}" if anchor else ""
        return self.fail(
            f"recursive alias{name}: the value anchored here contains itself",
            node,
            "an alias may only refer to a value that is complete before it",
        )

    # ------------------------------------------------------------------ building

    def build(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:  # `measure` refuses this first; a last line of defence
            raise self.fail(f"more than {MAX_NODES:,} values (alias expansion?)", node)
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels", node)
        mark = node.start_mark
        self.source.values[path] = (mark.line + 1, mark.column + 1)
        tag = node.tag or ""
        if tag.startswith(COMMAND_TAGS_PREFIX) and not tag.startswith("!!"):
            # `!jq ".x"` is `{"!jq": ".x"}`: the argument lives one level down
            inner_path = (*path, tag)
            self.source.values[inner_path] = (mark.line + 1, mark.column + 1)
            return {tag: self._plain(node, inner_path, depth + 1)}
        return self._plain(node, path, depth)

    def _plain(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in
                    enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        entries, duplicates = self._entries(node)
        for key, key_node in duplicates:
            if id(key_node) not in self.reported:
                self.reported.add(id(key_node))
                mark = key_node.start_mark
                self.diagnostics.append(
                    _duplicate(self.filename, (*path, key), mark.line + 1, mark.column + 1))
        result: dict[str, Any] = {}
        for key, (key_node, value_node) in entries.items():
            child: Path = (*path, key)
            mark = key_node.start_mark
            self.source.keys[child] = (mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, child, depth + 1)
        return result

    def _entries(self, node: yaml.MappingNode) -> tuple[
            dict[str, tuple[yaml.Node, yaml.Node]], list[tuple[str, yaml.Node]]]:
        """A mapping's members with YAML merge keys (`<<: *base`, `<<: [*a, *b]`) applied, in
        the order written, and the keys written twice. A key written in the mapping overrides
        a merged one (that is what `<<` is for); of several merged mappings the first wins;
        a key written twice is a duplicate, its last value wins."""
        written: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        duplicates: list[tuple[str, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                key = self._key(key_node)
                if key in written:
                    duplicates.append((key, key_node))
                written[key] = (key_node, value_node)
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                key = self._key(key_node)
                entries.setdefault(key, written[key])
                continue
            for source in self._merge_sources(value_node):
                merged, inner_duplicates = self._entries(source)
                duplicates.extend(inner_duplicates)
                for key, pair in merged.items():
                    if key not in written and key not in entries:
                        entries[key] = pair
        return entries, duplicates

    def _merge_sources(self, node: yaml.Node) -> list[yaml.MappingNode]:
        if isinstance(node, yaml.MappingNode):
            return [node]
        if isinstance(node, yaml.SequenceNode) and all(
                isinstance(item, yaml.MappingNode) for item in node.value):
            return list(node.value)
        raise self.fail("a merge key (<<) takes a mapping or a list of mappings", node,
                        "e.g. <<: *defaults")

    def _key(self, node: yaml.Node) -> str:
        """A key is the text as written: JSON keys are strings, so `on:`, `~:` and `1.50:`
        are the keys "on", "~" and "1.50" (not True, None and 1.5)."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("object keys must be plain scalars", node)
        return str(node.value)

    def _record_string_start(self, node: yaml.Node, path: Path) -> None:
        """Remember where the characters of a one-line scalar start, when they map 1:1."""
        end = node.end_mark
        if end.line != node.start_mark.line or end.line >= len(self.lines):
            return
        quoted = 1 if getattr(node, "style", None) in ("'", '"') else 0
        start = end.column - quoted - len(node.value)
        if start >= 0 and self.lines[end.line][start : start + len(node.value)] == node.value:
            self.source.string_starts[path] = (end.line + 1, start + 1)

    def _scalar(self, node: yaml.Node, path: Path | None) -> Any:
        tag = node.tag or ""
        style = getattr(node, "style", None)
        if style == '"' and isinstance(node.value, str) and _SURROGATE.search(node.value):
            # libyaml refuses these escapes itself; the pure-Python loader keeps them
            raise _load_error(self.filename, "encoding",
                              "invalid unicode escape (a lone surrogate)",
                              line=node.start_mark.line + 1, column=node.start_mark.column + 1)
        if path is not None and isinstance(node.value, str) and style in (None, "'", '"'):
            self._record_string_start(node, path)
        if tag.startswith(COMMAND_TAGS_PREFIX) and not tag.startswith("!!"):
            return node.value
        if tag in (_STANDARD_TAG + "timestamp",):
            return node.value
        if tag in (_STANDARD_TAG + t for t in ("str", "int", "float", "bool", "null")):
            try:
                return _SCALAR_CONSTRUCTOR.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError) as exc:
                raise self.fail(f"invalid value {node.value!r}", node) from exc
        raise self.fail(
            f"unsupported YAML tag {tag!r}",
            node,
            "manifests use plain YAML values and command tags like !jq, !pipe, !http",
        )


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    return lines[line][column] if line < len(lines) and column < len(lines[line]) else ""


def parse_yaml(text: str, filename: str) -> LoadedManifest:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        hint = None
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            message, hint = "a tab character here", "YAML is indented with spaces, never tabs"
        elif "nesting depth" in message:
            # libyaml (PyYAML >= 6.0.4) stops at its own depth limit, which is above ours:
            # whatever the library says, the rule is ours.
            message = f"nesting deeper than {MAX_DEPTH} levels"
            hint = f"manifests may nest at most {MAX_DEPTH} levels"
        raise _load_error(filename, "syntax", message, hint=hint, line=line, column=column) \
            from exc
    except yaml.YAMLError as exc:
        raise _load_error(filename, "syntax", f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise _load_error(filename, "syntax", "nesting too deep to read",
                          hint=f"manifests may nest at most {MAX_DEPTH} levels") from exc
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _STANDARD_TAG + "null"
                        and node.value == "" and not node.style):
        # no document at all, or one with no content (`---` alone)
        raise _load_error(filename, "empty", "the manifest is empty (only comments?)", line=1,
                          column=1)
    builder = _YamlBuilder(filename, text)
    try:
        builder.measure(node)
        data = builder.build(node, ())
    except RecursionError as exc:
        raise _load_error(filename, "syntax", "nesting too deep to read",
                          hint=f"manifests may nest at most {MAX_DEPTH} levels") from exc
    return LoadedManifest(data, builder.source, text, tuple(builder.diagnostics))


_PARSERS: dict[str, Callable[[str, str], LoadedManifest]] = {
    ".json": parse_json,
    ".yaml": parse_yaml,
    ".yml": parse_yaml,
}
