"""The console's own settings: ``$XDG_CONFIG_HOME/tierconsole/config.yaml`` (``~/.config``).

Profiles say what to watch; this file says how the console behaves for its operator, whatever the
profile. One section today, ``keymap``: binding ids mapped to the keys that replace their default
ones (``prompt-send: ctrl+j``, ``quit: "ctrl+q,q"``), as posting's keymap does. This module reads and
shapes the file (file and line in every error); which binding ids exist and which keys Textual knows is
checked by the TUI (:mod:`tierconsole.tui.keymap`), the layer that owns the bindings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..domain.catalog import ConfigError, show
from .loader import line_of, load_yaml
from .paths import user_config_dir

CONFIG_NAME = "config.yaml"
SECTIONS = ("keymap",)
#: A console config is a few lines; anything much larger is not one (and is not read whole).
MAX_CONFIG_BYTES = 256 * 1024


@dataclass(frozen=True)
class ConsoleConfig:
    """``keymap``: binding id → keys as typed (``"f5"``, ``"ctrl+k,f5"``); ``lines``: the line of each
    keymap entry in ``source`` (for messages about its value)."""

    keymap: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def error(self, binding_id: str, message: str) -> ConfigError:
        """An error about one keymap entry, naming the file, its line and the field ``keymap.<id>``."""
        return ConfigError(f"keymap.{binding_id}", message, source=self.source, line=self.lines.get(binding_id))


def console_config_path() -> Path:
    return user_config_dir() / CONFIG_NAME


def load_console_config(path: Path | None = None) -> ConsoleConfig:
    """The console config at ``path`` (default :func:`console_config_path`); none there: the defaults.
    Raises :class:`ConfigError` naming the file, the line and the field."""
    path = console_config_path() if path is None else path
    source = str(path)
    if not path.exists() and not path.is_symlink():
        return ConsoleConfig()
    if not path.is_file():
        raise ConfigError("", "not a regular file (never read)", source=source)
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError("", f"larger than {MAX_CONFIG_BYTES // 1024} KiB: not a console config, not read",
                          source=source)
    doc = load_yaml(path, cache=True)
    if doc is None:
        return ConsoleConfig(source=source)
    if not isinstance(doc, dict):
        raise ConfigError("", f"must be a mapping (sections: {', '.join(SECTIONS)}), got {show(doc)}", source=source,
                          line=line_of(doc, ""))
    for key in doc:
        if key not in SECTIONS:
            raise ConfigError(str(key), f"unknown section (known: {', '.join(SECTIONS)})", source=source,
                              line=line_of(doc, str(key)))
    raw: Any = doc.get("keymap")
    if raw is None:
        return ConsoleConfig(source=source)
    if not isinstance(raw, dict):
        raise ConfigError("keymap", f"must map binding ids to keys (e.g. prompt-send: ctrl+j), got {show(raw)}",
                          source=source, line=line_of(doc, "keymap"))
    keymap: dict[str, str] = {}
    lines: dict[str, int] = {}
    for binding_id, keys in raw.items():
        line = raw.lines.get(binding_id) if hasattr(raw, "lines") else None
        if not isinstance(binding_id, str):
            raise ConfigError(f"keymap.{binding_id}", "a binding id is text, e.g. prompt-send", source=source,
                              line=line)
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f"keymap.{binding_id}", f"give the key(s) as text, e.g. ctrl+j or \"f5,ctrl+j\"; "
                                                      f"got {show(keys)}", source=source, line=line)
        keymap[binding_id] = keys.strip()
        if line is not None:
            lines[binding_id] = line
    return ConsoleConfig(keymap, source, lines)
