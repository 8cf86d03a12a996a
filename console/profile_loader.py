"""Finding and loading console profiles.

Where profiles come from, later ones overriding earlier ones of the same name:

1. ``built-in``: the ``profiles/`` shipped inside the package (``sandbox``, ``aws-template``);
2. ``project``: ``./profiles/*.yaml`` in the current directory (a checkout of this repo);
3. ``user``: ``$XDG_CONFIG_HOME/tierconsole/profiles/*.yaml`` (default ``~/.config``).

Which profile is used: ``--profile NAME`` > ``$TIERCONSOLE_PROFILE`` > the ``default: true``
profile > ``sandbox``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .config import load_yaml, locate
from .domain.catalog import ConfigError
from .domain.profile import Profile, parse_profile

FALLBACK = "sandbox"


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tierconsole"


def user_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tierconsole"


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tierconsole"


@dataclass(frozen=True)
class ProfileEntry:
    name: str
    source: str
    origin: str
    is_default: bool = False
    error: ConfigError | None = None


def _candidates(cwd: Path | None = None) -> list[tuple[str, str, str, str | None]]:
    """(name, source, origin, text-or-None) of every profile file, in override order."""
    out = []
    pkg = resources.files("tierconsole.profiles")
    for item in sorted(pkg.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            out.append((item.name[:-5], f"<package>/profiles/{item.name}", "built-in", item.read_text()))
    for origin, folder in (("project", (cwd or Path.cwd()) / "profiles"), ("user", user_config_dir() / "profiles")):
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                out.append((path.stem, str(path), origin, None))
    return out


def _load(name: str, source: str, origin: str, text: str | None, doc=None) -> Profile:
    doc = load_yaml(source, text) if doc is None else doc
    try:
        return parse_profile(doc, default_name=name, source=source, origin=origin)
    except ConfigError as err:
        raise locate(err, doc, source) from None


def discover(cwd: Path | None = None) -> dict[str, ProfileEntry]:
    """Every profile by name (the last definition wins), with broken ones carrying their error."""
    found: dict[str, ProfileEntry] = {}
    for name, source, origin, text in _candidates(cwd):
        try:
            doc = load_yaml(source, text)  # parsed once, for the profile and its default flag
            prof = _load(name, source, origin, text, doc)
            found[prof.name] = ProfileEntry(prof.name, source, origin,
                                            bool(doc.get("default")) if isinstance(doc, dict) else False)
        except ConfigError as err:
            found[name] = ProfileEntry(name, source, origin, error=err)
    return found


def load_profile(name: str | None = None, cwd: Path | None = None) -> Profile:
    """The profile to use, by the documented precedence. Raises :class:`ConfigError`."""
    wanted = name or os.environ.get("TIERCONSOLE_PROFILE") or None
    entries = discover(cwd)
    if wanted is None:
        defaults = [e for e in entries.values() if e.is_default and e.error is None]
        wanted = defaults[-1].name if defaults else FALLBACK
    entry = entries.get(wanted)
    if entry is None:
        known = ", ".join(sorted(entries)) or "none"
        raise ConfigError("", f"no profile named {wanted!r} (known: {known}; see `tierconsole profiles`)")
    if entry.error is not None:
        raise entry.error
    for n, source, origin, text in reversed(_candidates(cwd)):
        if source == entry.source:
            return _load(n, source, origin, text)
    raise ConfigError("", f"profile {wanted!r} vanished while loading")  # pragma: no cover
