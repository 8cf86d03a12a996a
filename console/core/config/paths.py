"""Where the console keeps its files, as the XDG base directory spec says: profiles under
``$XDG_CONFIG_HOME/tierconsole`` (``~/.config``), the audit log under ``$XDG_STATE_HOME/tierconsole``
(``~/.local/state``), prompt history and exports under ``$XDG_DATA_HOME/tierconsole`` (``~/.local/share``), what can
be read again (a fleet's quota listings) under ``$XDG_CACHE_HOME/tierconsole`` (``~/.cache``)."""
from __future__ import annotations

import os
from pathlib import Path


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tierconsole"


def user_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tierconsole"


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tierconsole"


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tierconsole"
