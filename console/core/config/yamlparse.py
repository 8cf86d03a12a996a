"""The PyYAML side of :func:`tierconsole.core.config.loader.load_yaml`: a safe loader that remembers the line of
every key and item, refuses alias bombs, and turns every problem into a :class:`ConfigError` with file and line.

Imported only when a document is not in the parsed-document cache (:mod:`.yamldoc`): importing PyYAML costs
~10 ms (it compiles its reader's and resolver's regular expressions), a tenth of what the console adds to a
bare Textual app before its first frame.
"""
from __future__ import annotations

from typing import Any

import yaml

from ..domain.catalog import ConfigError, show
from .yamldoc import MAX_ALIAS_NODES, _LinedDict, _LinedList


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[misc]  # (a base chosen at run time: libyaml's when present)
    """A safe loader (libyaml's when present: ~15x faster) that remembers the line of every key and item."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - a 5,000-digit integer, the 45th of month 13, "!!timestamp x"...
            kind = node.tag.rsplit(":", 1)[-1]
            what = ("too many digits" if "digits" in str(exc) else
                    str(exc)[:100] if isinstance(exc, ValueError) else f"not a valid {kind}")
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this {kind}: {what}",
                                                    node.start_mark) from None


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    mapping = {}
    lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, f"a key cannot be {show(key)}",
                                                    key_node.start_mark) from None
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {show(key)}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
        lines[key] = key_node.start_mark.line + 1
    return _LinedDict(mapping, lines, node.start_mark.line + 1)


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode, deep: bool = False) -> list[Any]:
    return _LinedList([loader.construct_object(v, deep=deep) for v in node.value],
                      [v.start_mark.line + 1 for v in node.value], node.start_mark.line + 1)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse(source: str, text: str) -> Any:
    """The document in ``text`` (read from ``source``); syntax errors become :class:`ConfigError` with file and line."""
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node)
        return loader.construct_document(node)
    except RecursionError:  # the pure-Python parser has no depth limit of its own
        raise ConfigError("", "YAML nested too deeply", source=source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            what += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        kind = "YAML error" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error"
        raise ConfigError("", f"{kind}: {what}", source=source, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError("", f"YAML error: {str(exc)[:200]}", source=source) from None
    except ValueError as exc:  # a scalar Python will not convert (the loader names most with their line)
        raise ConfigError("", f"a value cannot be read: {str(exc)[:160]}", source=source) from None
    finally:
        loader.dispose()




def _check_aliases(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it by more than :data:`MAX_ALIAS_NODES` nodes, or that
    refers to itself, before anything is constructed. Walks each node once (aliases are shared nodes
    in the composed graph), so a bomb is measured in the time it takes to read it."""
    size: dict[int, int] = {}  # expanded size of each finished node
    open_nodes: set[int] = set()  # nodes being walked (an alias to one of them is a cycle)
    distinct = expanded = 0
    stack: list[tuple[yaml.Node, int | None, bool]] = [(root, None, False)]
    while stack:
        node, line, done = stack.pop()
        key = id(node)
        if done:
            children = _children(node)
            size[key] = 1 + sum(size[id(child)] for child, _ in children)
            open_nodes.discard(key)
            continue
        if key in size:  # an alias to a finished node: it is copied where the alias stands
            expanded += size[key]
            if expanded - distinct > MAX_ALIAS_NODES:
                raise yaml.constructor.ConstructorError(
                    None, None, f"aliases expand this document by more than {MAX_ALIAS_NODES:,} values "
                    "(an alias bomb?); write the values out or use fewer aliases", _mark(node, line))
            continue
        if key in open_nodes:
            raise yaml.constructor.ConstructorError(None, None, "an alias refers to a value that contains it",
                                                    _mark(node, line))
        open_nodes.add(key)
        distinct += 1
        expanded += 1
        stack.append((node, line, True))
        stack.extend(reversed([(child, child_line, False) for child, child_line in _children(node)]))


def _children(node: yaml.Node) -> list[tuple[yaml.Node, int]]:
    """A collection's keys and values (or items) with the line each stands on."""
    if isinstance(node, yaml.MappingNode):
        return [(n, k.start_mark.line) for k, v in node.value for n in (k, v)]
    if isinstance(node, yaml.SequenceNode):
        return [(v, node.start_mark.line) for v in node.value]
    return []


class _Mark:
    """A position for an error: the line where an alias stands (the composed graph keeps none for it)."""

    def __init__(self, line: int) -> None:
        self.line, self.column, self.name = line, 0, ""

    def __str__(self) -> str:
        return f"line {self.line + 1}"


def _mark(node: yaml.Node, line: int | None) -> Any:
    return _Mark(line) if line is not None else node.start_mark
