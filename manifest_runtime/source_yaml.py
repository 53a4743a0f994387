"""The YAML half of source.py: a manifest's YAML text into plain data plus the positions of
its values (PyYAML composes the node graph, `_YamlBuilder` builds the data). Its own module
so that PyYAML loads only when a YAML manifest is read."""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from .errors import Diagnostic, ManifestLoadError
from .paths import Path
from .source import (
    _SURROGATE,
    COMMAND_TAGS_PREFIX,
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    MAX_NODES,
    LoadedManifest,
    SourceMap,
    _duplicate,
    _load_error,
)

_SCALAR_CONSTRUCTOR = yaml.SafeLoader("")  # used only for its scalar resolution
_STANDARD_TAG = "tag:yaml.org,2002:"
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_MERGE_TAG = _STANDARD_TAG + "merge"
_STR_TAG = _STANDARD_TAG + "str"
_VALUE_TAGS = frozenset(_STANDARD_TAG + t for t in ("int", "float", "bool", "null"))
_TIMESTAMP_TAG = _STANDARD_TAG + "timestamp"
# what a plain key resolves to (`on:` is a bool, `1.5:` a float: all kept as their text)
_KEY_TAGS = frozenset(_STANDARD_TAG + t for t in ("str", "int", "float", "bool", "null",
                                                  "timestamp"))
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
        self.text = text
        self.lines = text.split("\n")
        self.source = SourceMap(filename, text=text)
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.reported: set[int] = set()  # ids of duplicate key nodes already reported
        self.tagged: set[int] = set()  # ids of tagged key nodes already reported

    def fail(self, message: str, node: yaml.Node, hint: str | None = None) -> ManifestLoadError:
        mark = node.start_mark
        return _load_error(
            self.filename, "syntax", message, hint=hint, line=mark.line + 1,
            column=mark.column + 1, text=self.text
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
        mark, end = node.start_mark, node.end_mark
        self.source.values[path] = (mark.line + 1, mark.column + 1)
        self.source.value_ends[path] = (end.line + 1, end.column + 1)
        tag = node.tag or ""
        if tag.startswith(COMMAND_TAGS_PREFIX) and not tag.startswith("!!"):
            # `!jq ".x"` is `{"!jq": ".x"}`: the argument lives one level down
            inner_path = (*path, tag)
            self.source.values[inner_path] = (mark.line + 1, mark.column + 1)
            self.source.value_ends[inner_path] = (end.line + 1, end.column + 1)
            # the tag is the command's key (`!htp` is what an unknown-command points at)
            self.source.keys[inner_path] = (mark.line + 1, mark.column + 1)
            self.source.key_ends[inner_path] = (mark.line + 1, mark.column + 1 + len(tag))
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
                mark, end = key_node.start_mark, key_node.end_mark
                width = end.column - mark.column if end.line == mark.line else 1
                self.diagnostics.append(_duplicate(self.filename, (*path, key), mark.line + 1,
                                                   mark.column + 1, width, self.text))
        result: dict[str, Any] = {}
        for key, (key_node, value_node) in entries.items():
            child: Path = (*path, key)
            mark, end = key_node.start_mark, key_node.end_mark
            self.source.keys[child] = (mark.line + 1, mark.column + 1)
            self.source.key_ends[child] = (end.line + 1, end.column + 1)
            if key_node.tag not in _KEY_TAGS:
                value_node = self._tagged_key(child, key_node, value_node)
            result[key] = self.build(value_node, child, depth + 1)
        return result

    def _tagged_key(self, path: Path, node: yaml.Node, value: yaml.Node) -> yaml.Node:
        """`!jq scope: x`: YAML puts the tag on the key, where it means nothing (a key is its
        text): an error, reported once per key node. A command tag was meant for the value
        (`scope: !jq x`): the value is read so, for the checks that follow (one cause, one
        error), unless it has a tag of its own."""
        tag, key = str(node.tag), str(path[-1])
        shown = tag.replace(_STANDARD_TAG, "!!")
        command = tag.startswith(COMMAND_TAGS_PREFIX) and not tag.startswith("!!")
        if id(node) not in self.tagged:
            self.tagged.add(id(node))
            mark, end = node.start_mark, node.end_mark
            lines = self.text.split("\n", mark.line + 1)
            self.diagnostics.append(Diagnostic(
                code="tagged-key",
                message=f"the tag {shown} is on the key {key!r}, not on its value: a key is "
                        "plain text",
                path=path,
                hint=f"put the tag after the colon: `{key}: {shown} ...`" if command else
                f"remove {shown}: a key is plain text",
                file=self.filename,
                line=mark.line + 1,
                column=mark.column + 1,
                end_line=mark.line + 1,
                end_column=end.column + 1 if end.line == mark.line else mark.column + 2,
                snippet=lines[mark.line].rstrip("\r") if mark.line < len(lines) else None,
            ))
        if not command or not str(value.tag).startswith(_STANDARD_TAG):
            return value
        meant = copy.copy(value)  # the node may be shared (an anchor): never changed
        meant.tag = tag
        return meant

    def _entries(self, node: yaml.MappingNode) -> tuple[
            dict[str, tuple[yaml.Node, yaml.Node]], list[tuple[str, yaml.Node]]]:
        """A mapping's members with YAML merge keys (`<<: *base`, `<<: [*a, *b]`) applied, in
        the order written, and the keys written twice. A key written in the mapping overrides
        a merged one (that is what `<<` is for); of several merged mappings the first wins;
        a key written twice is a duplicate, its last value wins."""
        written: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        duplicates: list[tuple[str, yaml.Node]] = []
        merges = False
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                key = self._key(key_node)
                if key in written:
                    duplicates.append((key, key_node))
                written[key] = (key_node, value_node)
            else:
                merges = True
        if not merges:  # the usual case: the keys as written (first place, last value)
            return written, duplicates
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
                              line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                              text=self.text)
        if path is not None and isinstance(node.value, str) and style in (None, "'", '"'):
            self._record_string_start(node, path)
        if tag in (_STR_TAG, _TIMESTAMP_TAG):  # a timestamp stays its text
            return node.value
        if tag.startswith(COMMAND_TAGS_PREFIX) and not tag.startswith("!!"):
            return node.value
        if tag in _VALUE_TAGS:
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


def _yaml_syntax_error(exc: yaml.MarkedYAMLError, text: str, filename: str
                       ) -> ManifestLoadError:
    """A YAML syntax error in our words: what is wrong at the line, and how to fix it. The
    parser's own text is kept as a note. Our reading is from the text at the marks (the
    indentation of the lines, the character there), not from the parser's wording."""
    mark = exc.problem_mark or exc.context_mark
    raw = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        raw = f"{exc.problem} ({exc.context})"
    if mark is None:
        return _load_error(filename, "syntax", f"YAML: {raw}", text=text)
    message, hint = _explain_yaml(exc, mark, text, raw)
    if _unclosed_quote(exc, mark, text) and exc.context_mark is not None:
        mark = exc.context_mark  # point at where the string opens, not at the end of file
    note = () if message == raw else (f"the YAML parser says: {raw}",)
    return _load_error(filename, "syntax", message, hint=hint, line=mark.line + 1,
                       column=mark.column + 1, text=text, notes=note)


def _unclosed_quote(exc: yaml.MarkedYAMLError, mark: Any, text: str) -> bool:
    context = exc.context_mark
    return context is not None and context.line < mark.line and \
        _char_at(text, context.line, context.column) in ("'", '"')


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _spaces(n: int) -> str:
    return f"{n} space{'' if n == 1 else 's'}"


def _explain_yaml(exc: yaml.MarkedYAMLError, mark: Any, text: str, raw: str
                  ) -> tuple[str, str]:
    lines = text.split("\n")
    here = lines[mark.line] if mark.line < len(lines) else ""
    char = here[mark.column] if mark.column < len(here) else ""
    context = exc.context_mark
    opener = _char_at(text, context.line, context.column) if context is not None else ""
    if char == "\t" or (here[: mark.column + 1].strip() == "" and "\t" in here[: mark.column + 1]):
        return "a tab character here", "YAML is indented with spaces, never tabs"
    if "nesting depth" in raw:
        # libyaml (PyYAML >= 6.0.4) stops at its own depth limit, which is above ours:
        # whatever the library says, the rule is ours.
        return (f"nesting deeper than {MAX_DEPTH} levels",
                f"manifests may nest at most {MAX_DEPTH} levels")
    if _unclosed_quote(exc, mark, text) and context is not None:
        return (f"the {opener}quoted{opener} string that starts at line {context.line + 1} is "
                "not closed",
                f"end it with {opener} on the same line it should end on; inside single quotes "
                "write '' for a quote, inside double quotes \\\"")
    if opener in ("[", "{") and context is not None:
        closer = "]" if opener == "[" else "}"
        return (f"the {opener} opened at line {context.line + 1}, column {context.column + 1} "
                f"is not closed (or a ',' is missing)",
                f"close it with {closer}; items of a {opener}...{closer} are separated by ', '")
    if isinstance(exc, yaml.composer.ComposerError) and char == "*":
        return ("an alias (*name) with no anchor (&name) before it",
                "anchor the value first (key: &name value), or quote the text if the '*' is "
                "meant literally")
    if char in ("@", "`"):
        return (f"a plain value cannot start with {char!r}",
                f"quote the value: '{here[mark.column:].strip()}'")
    if opener == '"' and context is not None:
        return ("an unknown escape in a double-quoted string",
                "in double quotes a backslash starts an escape (\\n, \\t, \\\\, \\\"); use "
                "single quotes for a literal backslash, as jq programs often need")
    if here.lstrip().startswith("- ") and context is not None and \
            _indent(here) <= _indent(lines[context.line]):
        return ("a list item ('- ') among the keys of the object that starts at line "
                f"{context.line + 1}",
                "a key holds either keys or a list: put the list under a key of its own, "
                "its items on the lines below it")
    if context is not None and isinstance(exc, yaml.parser.ParserError):
        expected = _indent(lines[context.line]) if context.line < len(lines) else 0
        return (f"this line is indented {_spaces(_indent(here))}, but the keys of the object "
                f"that starts at line {context.line + 1} are indented {_spaces(expected)}",
                f"line up the keys of one object (here {expected} spaces); a value that "
                "belongs to a key goes on deeper-indented lines below it")
    if isinstance(exc, yaml.scanner.ScannerError) and char == ":":
        above = next((line for line in reversed(lines[: mark.line]) if line.strip()
                      and not line.lstrip().startswith("#")), "")
        if above and _indent(here) > _indent(above) and ":" in above and \
                above.split(":", 1)[1].strip():
            return (f"this line is indented more ({_spaces(_indent(here))}) than the key "
                    f"above it ({_indent(above)}), which already has a value",
                    f"line it up with the key above ({_spaces(_indent(above))}), or put it "
                    "under a key that has no value on its own line")
        return ("a ': ' inside a plain value (YAML reads it as a second key)",
                "quote the value: key: 'text: with a colon'")
    return (f"YAML: {raw}",
            "check this line: indentation (spaces only, the keys of one object lined up), "
            "quotes, and ': ' or ' #' inside values (quote those values)")


def parse_yaml(text: str, filename: str) -> LoadedManifest:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_syntax_error(exc, text, filename) from exc
    except yaml.YAMLError as exc:
        raise _load_error(filename, "syntax", f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise _load_error(filename, "syntax", "nesting too deep to read",
                          hint=f"manifests may nest at most {MAX_DEPTH} levels") from exc
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _STANDARD_TAG + "null"
                        and node.value == "" and not node.style):
        # no document at all, or one with no content (`---` alone)
        raise _load_error(filename, "empty", "the manifest is empty (only comments?)", line=1,
                          column=1, text=text)
    builder = _YamlBuilder(filename, text)
    try:
        builder.measure(node)
        data = builder.build(node, ())
    except RecursionError as exc:
        raise _load_error(filename, "syntax", "nesting too deep to read",
                          hint=f"manifests may nest at most {MAX_DEPTH} levels") from exc
    return LoadedManifest(data, builder.source, text, tuple(builder.diagnostics))
