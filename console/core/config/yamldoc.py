"""A parsed YAML document as :func:`~tierconsole.core.config.loader.load_yaml` returns it, and a cache of them.

Mappings and sequences remember the line of each key and item (``file:line`` in every error a field of a
profile can have); :func:`line_of` finds the line of a field path. Nothing here imports PyYAML.

The cache keeps the documents of the files the console reads on its way to the first frame (the profiles,
the console's config) in ``$XDG_CACHE_HOME/tierconsole/yaml/`` (``~/.cache``), so that a launch whose files
have not changed neither imports PyYAML (~10 ms) nor parses them (~5 ms). An entry is found by a checksum of
the file's text and used only if it holds that very text, parsed by this version of the console and of
PyYAML; anything else (a changed file, a damaged or foreign entry, an unreadable folder) is a miss, and the
file is parsed as before. Only documents that parsed without error are kept, so a bad file gives the same
message, file and line, every time. The entries hold what the files hold: files 0600 in a 0700 folder, at
most :data:`MAX_ENTRIES` of them (the oldest go first).
"""
from __future__ import annotations

import marshal
import os
import zlib
from pathlib import Path
from typing import Any

from .paths import user_cache_dir

#: How many nodes aliases may add to a document beyond its own (an alias to a mapping of 10 keys
#: adds 21: the mapping, its keys and its values). Sharing a block of settings a few times fits easily.
MAX_ALIAS_NODES = 10_000


class _LinedDict(dict[Any, Any]):
    def __init__(self, data: dict[Any, Any], lines: dict[Any, int], line: int):
        super().__init__(data)
        self.lines = lines
        self.line = line


class _LinedList(list[Any]):
    def __init__(self, data: list[Any], lines: list[int], line: int):
        super().__init__(data)
        self.lines = lines
        self.line = line


def _walk(root: Any, path: str) -> tuple[bool, Any, int | None]:
    """(whether the whole path is there, the node it reaches, the line of the deepest part found)."""
    node, line = root, getattr(root, "line", None)
    for part in path.replace("]", "").replace("[", ".").split("."):
        if not part:
            continue
        if isinstance(node, _LinedDict) and part in node:
            line, node = node.lines.get(part, line), node[part]
        elif isinstance(node, _LinedList) and part.isdigit() and int(part) < len(node):
            line, node = node.lines[int(part)], node[int(part)]
        else:
            return False, node, line
    return True, node, line


def line_of(root: Any, path: str) -> int | None:
    """The line of a field path like ``sandbox.models[2].tpm`` in a document loaded by ``load_yaml``."""
    return _walk(root, path)[2]


def field_at(root: Any, path: str) -> tuple[Any, int | None] | None:
    """(value, line) of the field at ``path`` of a document loaded by ``load_yaml``; None when it is not there."""
    found, node, line = _walk(root, path)
    return (node, line) if found else None


# ------------------------------------------------------------------ the cache of parsed documents
#: The layout of an entry; a change of it (or of what parsing returns) makes every older entry a miss.
FORMAT = 1
MAX_ENTRIES = 64
#: Larger texts are not kept (a profile is read up to 1 MiB; a document this large is parsed each time).
MAX_TEXT = 256 * 1024
_SCALARS = (str, int, float, bool, type(None))


class _Uncacheable(Exception):
    """A value the cache does not keep (a date, a set, bytes, an ``!!omap``...): the document is parsed each time."""


def _encode(value: Any) -> Any:
    """``value`` as marshal-able tuples: ``("d", line, ((key, value, key line), ...))`` for a mapping, ``("l", line,
    ((item, item line), ...))`` for a sequence, scalars as they are."""
    kind = type(value)
    if kind is _LinedDict:
        return ("d", value.line, tuple((_encode(k), _encode(v), value.lines[k]) for k, v in value.items()))
    if kind is _LinedList:
        return ("l", value.line, tuple((_encode(v), n) for v, n in zip(value, value.lines)))
    if kind in _SCALARS:
        return value
    raise _Uncacheable(kind.__name__)


def _decode(data: Any) -> Any:
    if type(data) in _SCALARS:
        return data
    tag, line, items = data  # anything else is a damaged entry: ValueError or TypeError, a miss
    if type(line) is not int or type(items) is not tuple:
        raise ValueError("not an entry")
    if tag == "d":
        mapping, lines = {}, {}
        for key, value, key_line in items:
            key = _decode(key)
            mapping[key], lines[key] = _decode(value), int(key_line)
        return _LinedDict(mapping, lines, line)
    if tag == "l":
        return _LinedList([_decode(v) for v, _ in items], [int(n) for _, n in items], line)
    raise ValueError("not an entry")


_salt: str | None = None


def _parser_salt() -> str:
    """What parsing depends on besides the text: this console's version and parsing module, and PyYAML's files."""
    global _salt
    if _salt is None:
        from importlib.util import find_spec  # noqa: PLC0415 - once, on the first read

        from ... import __version__  # noqa: PLC0415

        parts = [__version__, str(MAX_ALIAS_NODES)]
        spec = find_spec("yaml")
        for path in (Path(__file__).with_name("yamlparse.py"), spec.origin if spec else None):
            try:
                st = os.stat(path) if path else None
            except OSError:
                st = None
            parts.append(f"{st.st_size}:{st.st_mtime_ns}" if st else "-")
        _salt = "\0".join(parts)
    return _salt


def _entry_path(text: str) -> Path:
    data = text.encode("utf-8", "surrogatepass")
    return user_cache_dir() / "yaml" / f"{zlib.crc32(data):08x}-{len(data):x}.marshal"


def cached(text: str) -> tuple[bool, Any]:
    """``(True, document)`` when the cache holds ``text`` parsed, else ``(False, None)``."""
    if len(text) > MAX_TEXT:
        return False, None
    try:
        with open(_entry_path(text), "rb") as f:
            raw = f.read()
        fmt, salt, kept, doc = marshal.loads(raw)
        if fmt != FORMAT or salt != _parser_salt() or kept != text:
            return False, None
        return True, _decode(doc)
    except (OSError, EOFError, ValueError, TypeError, RecursionError):  # none yet, or not one of ours: parse
        return False, None


def keep(text: str, doc: Any) -> None:
    """Keep ``doc``, parsed from ``text``, for the next launch (quietly not, if the cache folder is not writable)."""
    if len(text) > MAX_TEXT:
        return
    try:
        raw = marshal.dumps((FORMAT, _parser_salt(), text, _encode(doc)))
    except (_Uncacheable, ValueError, RecursionError):
        return
    path = _entry_path(text)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def _prune(folder: Path) -> None:
    """Keep the :data:`MAX_ENTRIES` newest entries (a profile edited often leaves one entry per version)."""
    entries = [e for e in os.scandir(folder) if e.name.endswith(".marshal") and not e.name.startswith(".")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for e in entries[:-MAX_ENTRIES]:
        try:
            os.unlink(e.path)
        except OSError:
            pass
