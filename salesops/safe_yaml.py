"""One YAML reader for every file the kit reads from users, with limits on size, aliases, nesting and expansion.

Mapping files, comp plans, routing and territory settings, calendars, benchmarks and stage tables are
configuration that a user may have been handed by someone else. ``yaml.safe_load`` constructs no Python
objects, but it still accepts

* a "billion laughs" document: nine anchors of nine aliases each are 700 bytes that stand for
  :math:`9^9 \\approx 3.9 \\times 10^8` scalars once anything walks the result (``pandas.DataFrame``, ``str``,
  JSON), which ends in ``MemoryError`` or minutes of work;
* nesting thousands of levels deep (``[[[[...]]]]``), which ends in ``RecursionError``;
* files of any size.

:func:`load_yaml` refuses each of these before anything is built, with a :class:`YamlLimitError` naming the
file and the limit. The limits (:class:`YamlLimits`) are

``max_bytes``    size of the text (default 1 MB);
``max_aliases``  number of ``*alias`` references (default 100);
``max_depth``    nesting of mappings and sequences (default 50);
``max_nodes``    nodes of the document with every alias expanded (default 100,000): the expanded size is
                 :math:`n(v) = 1 + \\sum_{c \\in \\text{children}(v)} n(c)`, computed once per node, so a
                 bomb is measured without being expanded. A recursive alias (a node that contains itself)
                 is refused too.

Pass ``limits=YamlLimits(max_bytes=...)`` to raise one for a file you trust.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["YamlLimitError", "YamlLimits", "DEFAULT_LIMITS", "load_yaml", "load_yaml_text"]


class YamlLimitError(ValueError):
    """A YAML document exceeds a limit of :class:`YamlLimits`; the message names the file and the limit."""


@dataclass(frozen=True)
class YamlLimits:
    """Limits of :func:`load_yaml` (see the module docstring)."""

    max_bytes: int = 1_000_000
    max_aliases: int = 100
    max_depth: int = 50
    max_nodes: int = 100_000


DEFAULT_LIMITS = YamlLimits()


def load_yaml(source: str | os.PathLike[str], origin: str | None = None, *,
              limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """Parse one YAML document safely: ``yaml.safe_load`` within :class:`YamlLimits`.

    Parameters
    ----------
    source : str or PathLike
        A path (``Path``, or a ``str`` without a newline that names an existing file) or the YAML text.
    origin : str, optional
        What to call the document in messages (default: the path, or ``"YAML text"``).
    limits : YamlLimits
        Size, alias, depth and expanded-node limits.

    Returns
    -------
    Any
        The parsed document (``None`` for an empty one).

    Raises
    ------
    YamlLimitError
        The file is larger than ``max_bytes``, holds more than ``max_aliases`` aliases, nests deeper than
        ``max_depth``, expands to more than ``max_nodes`` nodes, or holds a recursive alias.
    yaml.YAMLError
        The text is not valid YAML.
    OSError
        The file cannot be read.
    """
    if isinstance(source, os.PathLike) or _names_a_file(source):
        path = Path(source)
        label = origin or str(path)
        with open(path, "rb") as fh:  # never more than the limit, even from a pipe or /dev/zero
            data = fh.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            size = max(path.stat().st_size, len(data))
            raise YamlLimitError(f"{label}: {size:,} bytes is more than the {limits.max_bytes:,} a YAML file "
                                 "may have (YamlLimits.max_bytes)")
        text = data.decode("utf-8")
    else:
        label, text = origin or "YAML text", source
    return load_yaml_text(text, label, limits=limits)


def load_yaml_text(text: str, origin: str = "YAML text", *, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """Parse YAML ``text`` (never taken for a path) within ``limits``; ``origin`` names it in messages.

    Raises
    ------
    YamlLimitError, yaml.YAMLError
        As :func:`load_yaml`.
    """
    label = origin
    if len(text.encode("utf-8")) > limits.max_bytes:
        raise YamlLimitError(f"{label}: {len(text.encode('utf-8')):,} bytes is more than the {limits.max_bytes:,} "
                             "a YAML document may have (YamlLimits.max_bytes)")
    loader = _LimitedLoader(text, label, limits)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _names_a_file(text: str) -> bool:
    if "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


class _LimitedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts aliases and depth while composing, and expanded nodes before building."""

    def __init__(self, text: str, label: str, limits: YamlLimits) -> None:
        super().__init__(text)
        self._label, self._limits = label, limits
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self._limits.max_aliases:
                raise YamlLimitError(
                    f"{self._label}: more than {self._limits.max_aliases} aliases (*name); the document may be an "
                    f"alias bomb (YamlLimits.max_aliases), near line {self.peek_event().start_mark.line + 1}")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > self._limits.max_depth:
            raise YamlLimitError(
                f"{self._label}: nested more than {self._limits.max_depth} levels deep (YamlLimits.max_depth), "
                f"near line {self.peek_event().start_mark.line + 1}")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node, self._label, self._limits.max_nodes)
        return node


def _check_expansion(root: yaml.Node, label: str, max_nodes: int) -> None:
    """Raise when the document, aliases expanded, has more than ``max_nodes`` nodes or contains itself.

    Depth-first over the node graph with the size of each node memoised, so shared (aliased) nodes are
    visited once however often they are referenced.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            if size[key] > max_nodes:
                raise YamlLimitError(
                    f"{label}: expands to more than {max_nodes:,} values once its aliases are followed; the "
                    f"document may be an alias bomb (YamlLimits.max_nodes), near line {node.start_mark.line + 1}")
            continue
        if key in size:
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                raise YamlLimitError(f"{label}: a recursive alias (a value that contains itself), near line "
                                     f"{child.start_mark.line + 1}")
            if id(child) not in size:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    return []
