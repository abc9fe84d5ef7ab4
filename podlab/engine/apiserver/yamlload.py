"""Safe, bounded YAML loading that remembers where every key and value came from.

Text from a browser is untrusted, so loading is bounded before and during parsing:

* the whole input is measured first and refused above ``MAX_BYTES`` without being parsed;
* the number of documents, the nesting depth and the length of each scalar are checked while
  PyYAML composes the node graph;
* aliases are counted while composing (``MAX_ALIASES``) and the graph is expanded into plain
  Python data by this module, which stops as soon as the expanded node count passes
  ``MAX_NODES`` (a "billion laughs" document is refused after a few thousand steps).

Only PyYAML's safe machinery is used (``SafeLoader`` scanning, parsing, composing and its
scalar resolution), so tags can never build arbitrary objects.  Each :class:`Document` keeps
a position index: for a field path such as ``("spec", "containers", 0, "name")`` it knows the
1-based line and column of the mapping key and of the value.

Duplicate keys in one mapping are refused (kubectl's YAML decoding refuses them too).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 256 * 1024
MAX_DOCUMENTS = 20
MAX_DEPTH = 32
MAX_ALIASES = 100
MAX_NODES = 10_000
MAX_SCALAR = 64 * 1024

Path = tuple[str | int, ...]
Position = tuple[int, int]

YAML_SYNTAX = "YAMLSyntax"
_COLLECTION_TAGS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")
LIMIT_EXCEEDED = "LimitExceeded"


class YAMLLoadError(Exception):
    """The input could not be loaded.

    ``code`` is ``"YAMLSyntax"`` or ``"LimitExceeded"``; ``line``/``column`` are 1-based
    (``line`` is at least 1 even when the problem concerns the whole input), ``document`` is
    the 0-based index of the document being read, ``detail`` carries raw values (the limit
    name and numbers, the duplicated key ...).
    """

    def __init__(
        self,
        *,
        code: str,
        message: str,
        line: int = 1,
        column: int = 1,
        document: int = 0,
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = max(1, line)
        self.column = max(1, column)
        self.document = document
        self.detail = dict(detail or {})

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass
class Document:
    """One YAML document as plain data plus where each part of it was written."""

    index: int
    data: Any
    line: int
    column: int
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def value_position(self, path: Path) -> Position:
        """Line and column of the value at ``path``, or of its nearest written ancestor."""
        return self._nearest(path, prefer_key=False)

    def key_position(self, path: Path) -> Position:
        """Line and column of the key naming ``path`` (a list index falls back to the value)."""
        return self._nearest(path, prefer_key=True)

    def _nearest(self, path: Path, *, prefer_key: bool) -> Position:
        current = tuple(path)
        while current:
            first, second = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            if current in first:
                return first[current]
            if current in second:
                return second[current]
            current = current[:-1]
        return (self.line, self.column)


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    max_documents: int
    max_depth: int
    max_aliases: int
    max_nodes: int
    max_scalar: int


def _limit_error(
    what: str, limit: int, *, mark: Any = None, document: int = 0, message: str
) -> YAMLLoadError:
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    return YAMLLoadError(
        code=LIMIT_EXCEEDED,
        message=message,
        line=line,
        column=column,
        document=document,
        detail={"limit": what, "max": limit},
    )


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader whose composer enforces depth, scalar length and alias limits."""

    def __init__(self, stream: str, limits: _Limits) -> None:
        super().__init__(stream)
        self.limits = limits
        self.depth = 0
        self.alias_uses = 0
        self.document_index = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.alias_uses += 1
            if self.alias_uses > self.limits.max_aliases:
                raise _limit_error(
                    "aliases",
                    self.limits.max_aliases,
                    mark=event.start_mark,
                    document=self.document_index,
                    message=f"too many aliases: at most {self.limits.max_aliases} are allowed",
                )
        elif isinstance(event, yaml.ScalarEvent):
            if len(event.value) > self.limits.max_scalar:
                raise _limit_error(
                    "scalar",
                    self.limits.max_scalar,
                    mark=event.start_mark,
                    document=self.document_index,
                    message=(
                        f"scalar too long: {len(event.value)} characters, "
                        f"at most {self.limits.max_scalar} are allowed"
                    ),
                )
        elif isinstance(event, yaml.CollectionStartEvent):
            if self.depth >= self.limits.max_depth:
                raise _limit_error(
                    "depth",
                    self.limits.max_depth,
                    mark=event.start_mark,
                    document=self.document_index,
                    message=f"nesting too deep: at most {self.limits.max_depth} levels are allowed",
                )
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1
        return super().compose_node(parent, index)


class _Builder:
    """Turns a composed node graph into plain data, counting every node it expands."""

    def __init__(self, loader: _BoundedLoader, document: Document, limits: _Limits) -> None:
        self.loader = loader
        self.document = document
        self.limits = limits
        self.count = 0

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise _limit_error(
                "nodes",
                self.limits.max_nodes,
                mark=node.start_mark,
                document=self.document.index,
                message=(
                    f"document expands to more than {self.limits.max_nodes} nodes "
                    "(aliases are expanded)"
                ),
            )
        if depth > self.limits.max_depth:
            raise _limit_error(
                "depth",
                self.limits.max_depth,
                mark=node.start_mark,
                document=self.document.index,
                message=f"nesting too deep: at most {self.limits.max_depth} levels are allowed",
            )
        self.document.values.setdefault(path, _position(node))
        if isinstance(node, ScalarNode):
            value = self._scalar(node)
            if isinstance(value, str | int | float | bool) or value is None:
                return value
            # Timestamps and !!binary become their text, as in a YAML -> JSON conversion.
            return str(node.value)
        if node.tag not in _COLLECTION_TAGS and not isinstance(node, ScalarNode):
            raise YAMLLoadError(
                code=YAML_SYNTAX,
                message=f"could not determine a constructor for the tag {node.tag!r}",
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
                document=self.document.index,
                detail={"problem": "unknown tag", "tag": node.tag},
            )
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        raise YAMLLoadError(  # pragma: no cover - composer only makes the three node kinds
            code=YAML_SYNTAX, message="unknown node", document=self.document.index
        )

    def _scalar(self, node: ScalarNode) -> Any:
        """A scalar's value; an integer too long for Python to convert (more than
        ``sys.get_int_max_str_digits()`` digits) is a located limit error."""
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:
            limit = sys.get_int_max_str_digits()
            raise _limit_error(
                "digits", limit, mark=node.start_mark, document=self.document.index,
                message=f"number too long: at most {limit} digits are allowed") from None

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        # Merge keys ("<<") are flattened the way SafeLoader does it, then built by hand.
        self.loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise YAMLLoadError(
                    code=YAML_SYNTAX,
                    message="a mapping key must be a scalar",
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                    document=self.document.index,
                )
            self.count += 1
            # JSON object keys are strings: a key written as 1, true or ~ keeps its text.
            key = self._scalar(key_node)
            if not isinstance(key, str):
                key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YAMLLoadError(
                    code=YAML_SYNTAX,
                    message=f'mapping key "{key}" already defined at line {seen[key]}',
                    line=line,
                    column=key_node.start_mark.column + 1,
                    document=self.document.index,
                    detail={"key": key, "first_line": seen[key]},
                )
            seen[key] = line
            child = (*path, key)
            self.document.keys.setdefault(child, _position(key_node))
            result[key] = self.build(value_node, child, depth + 1)
        return result


def _position(node: Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _syntax_error(error: yaml.MarkedYAMLError, document: int) -> YAMLLoadError:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or error.context or "invalid YAML"
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    context = error.context if error.problem and error.context else None
    return YAMLLoadError(
        code=YAML_SYNTAX,
        message=f"yaml: line {line}: {problem}",
        line=line,
        column=column,
        document=document,
        detail={"problem": problem, "context": context},
    )


def load_documents(
    text: str | bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_documents: int = MAX_DOCUMENTS,
    max_depth: int = MAX_DEPTH,
    max_aliases: int = MAX_ALIASES,
    max_nodes: int = MAX_NODES,
    max_scalar: int = MAX_SCALAR,
) -> list[Document]:
    """Load every document of ``text``; raise :class:`YAMLLoadError` on the first problem.

    Empty documents (``---`` with nothing after it, comments only) are returned with
    ``data`` ``None`` so that callers can number documents like the input does.
    """
    limits = _Limits(max_bytes, max_documents, max_depth, max_aliases, max_nodes, max_scalar)
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > max_bytes:
        raise YAMLLoadError(
            code=LIMIT_EXCEEDED,
            message=f"input too large: {size} bytes, at most {max_bytes} are allowed",
            detail={"limit": "bytes", "max": max_bytes, "size": size},
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise YAMLLoadError(
                code=YAML_SYNTAX,
                message=f"input is not valid UTF-8 (byte {error.start})",
                detail={"offset": error.start},
            ) from None

    documents: list[Document] = []
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text, limits)
        while loader.check_node():
            index = len(documents)
            loader.document_index = index
            if index >= max_documents:
                mark = loader.peek_event().start_mark
                raise _limit_error(
                    "documents",
                    max_documents,
                    mark=mark,
                    document=index,
                    message=f"too many documents: at most {max_documents} are allowed",
                )
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node guarantees a node
                break
            line, column = _position(node)
            document = Document(index=index, data=None, line=line, column=column)
            document.data = _Builder(loader, document, limits).build(node, (), 0)
            documents.append(document)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, len(documents)) from None
    except yaml.YAMLError as error:  # reader errors (control characters) and the like
        mark = getattr(error, "position", None)
        raise YAMLLoadError(
            code=YAML_SYNTAX,
            message=f"yaml: {error}",
            document=len(documents),
            detail={"problem": str(error), "offset": mark},
        ) from None
    except RecursionError:
        raise YAMLLoadError(
            code=LIMIT_EXCEEDED,
            message=f"nesting too deep: at most {max_depth} levels are allowed",
            document=len(documents),
            detail={"limit": "depth", "max": max_depth},
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return documents
