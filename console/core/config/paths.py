"""Where the console keeps its files, as the XDG base directory spec says: profiles under
``$XDG_CONFIG_HOME/tierconsole`` (``~/.config``), the audit log under ``$XDG_STATE_HOME/tierconsole``
(``~/.local/state``), prompt history and exports under ``$XDG_DATA_HOME/tierconsole`` (``~/.local/share``), what can
be rebuilt or read again (parsed profiles, a fleet's quota listings) under ``$XDG_CACHE_HOME/tierconsole``
(``~/.cache``)."""
from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any


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


def package_folder(package: str) -> Any:
    """The folder of the data files of ``package`` (``tierconsole.profiles``, ``tierconsole.themes``...): the folder
    itself when the package is installed as files, as pip installs it; else (a zip) what importlib.resources gives.
    A plain path costs nothing to reach, importlib.resources ~2 ms to import on the console's way to its first frame."""
    for location in getattr(importlib.import_module(package), "__path__", ()):
        if os.path.isdir(location):
            return Path(location)
    from importlib.resources import files  # noqa: PLC0415 - only for a package that is not a folder

    return files(package)
