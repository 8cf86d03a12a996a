"""Themes as data: ``*.yaml`` colour palettes in the ``tierconsole.themes`` package, loaded as Textual
themes; and the app's stylesheets, ``styles/*.tcss`` beside this module.

(This module is not called ``tierconsole.themes``: that name is the package holding the palettes.)
"""
from __future__ import annotations

from functools import lru_cache
from textual.theme import Theme

from ..core.config.paths import package_folder

THEME_PACKAGE = "tierconsole.themes"
STYLES = package_folder(__package__) / "styles"  # the .tcss files (package data of tierconsole.tui)
DEFAULT_THEME = "dark"

#: Variables the stylesheet uses beyond Textual's own; any theme (even a built-in one picked from
#: the palette) gets these defaults unless it sets its own.
VARIABLE_DEFAULTS = {
    "tier-priority": "#e879f9",
    "tier-standard": "#60a5fa",
    "tier-flex": "#2dd4bf",
    "tier-reserved": "#a78bfa",
    "bar-track": "#3b4452",
}

_THEME_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground",
                 "background", "surface", "panel", "boost", "dark", "luminosity_spread", "text_alpha")


def theme_from_mapping(data: dict) -> Theme:
    """Build a Theme from a YAML mapping (``name``, colours, ``dark``, optional ``variables``)."""
    if not isinstance(data, dict) or "name" not in data or "primary" not in data:
        raise ValueError("a theme needs at least 'name' and 'primary'")
    unknown = set(data) - set(_THEME_FIELDS) - {"name", "variables"}
    if unknown:
        raise ValueError(f"theme {data['name']!r}: unknown field(s) {', '.join(sorted(unknown))}")
    kwargs = {key: data[key] for key in _THEME_FIELDS if key in data}
    return Theme(name=str(data["name"]), variables=dict(data.get("variables") or {}), **kwargs)


@lru_cache(maxsize=1)
def builtin_themes() -> dict[str, Theme]:
    """The themes shipped in ``themes/*.yaml``, by name."""
    from ..core.config.loader import load_yaml  # noqa: PLC0415 - keep app import light; the one safe YAML loader

    themes = {}
    for entry in sorted(package_folder(THEME_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            theme = theme_from_mapping(load_yaml(f"themes/{entry.name}", entry.read_text(encoding="utf-8"), cache=True))
            themes[theme.name] = theme
    return themes


def stylesheet_path() -> str:
    """Path of ``dashboard.tcss`` (the package is installed as files, so this is a real path)."""
    return str(STYLES / "dashboard.tcss")


def screen_stylesheet(name: str) -> str:
    """Path of ``styles/<name>``: a screen's ``CSS_PATH``. The app loads ``dashboard.tcss`` only; the
    action screens' styles (``actions.tcss``, ``incident.tcss``) are parsed when such a screen is
    first opened, not before the first frame (bench/first_frame.py: ~3% of the time to it)."""
    return str(STYLES / name)


def stylesheet_paths() -> list[str]:
    """Every stylesheet: ``dashboard.tcss`` first (the app's), then the other ``styles/*.tcss``
    (``actions.tcss`` for the operator action screens, and any other screen's) in name order."""
    others = sorted(e.name for e in STYLES.iterdir() if e.name.endswith(".tcss") and e.name != "dashboard.tcss")
    return [stylesheet_path(), *(str(STYLES / name) for name in others)]
