"""Reading YAML configuration with errors that name the file, the line and the field.

Every YAML file the console reads (profiles, the sandbox's config, scenarios, auth key files, themes)
goes through :func:`load_yaml`: a safe loader that refuses alias expansion beyond
:data:`MAX_ALIAS_NODES` (a "billion laughs" file of a few hundred bytes would otherwise expand to
10^9 items in whatever walks it) and turns every value it cannot construct into a
:class:`ConfigError` naming the file and line (:mod:`.yamlparse`, the only module that imports PyYAML).
The files read on the way to the console's first frame are parsed once per version of their text
(``cache=True``: :mod:`.yamldoc`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import yamldoc
from .yamldoc import MAX_ALIAS_NODES as MAX_ALIAS_NODES
from .yamldoc import line_of as line_of
from ..domain.catalog import ConfigError


def load_yaml(path: str | Path, text: str | None = None, *, cache: bool = False) -> Any:
    """Parse a YAML file (``text``: its text, already read); syntax errors become :class:`ConfigError` with file
    and line. ``cache``: a document parsed from the same text before is taken from the cache, one parsed now
    kept there (for the few files every launch reads; never for what a client sends)."""
    source = str(path)
    if text is None:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError("", f"cannot read file: {exc.strerror or exc}", source=source) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError("", f"not UTF-8 text (byte {exc.start})", source=source) from None
    if cache:
        found, doc = yamldoc.cached(text)
        if found:
            return doc
    from .yamlparse import parse  # noqa: PLC0415 - PyYAML: only for a document not in the cache

    doc = parse(source, text)
    if cache:
        yamldoc.keep(text, doc)
    return doc


def locate(error: ConfigError, root: Any, source: str) -> ConfigError:
    """Attach file and line to a field error raised while validating ``root``."""
    error.source = source
    if error.line is None:
        error.line = line_of(root, error.path)
    return error
