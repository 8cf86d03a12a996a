"""The operator's keymap: binding ids remapped to other keys from the console config's ``keymap:``
section (:mod:`tierconsole.core.config.console`), applied with Textual's ``App.set_keymap``.

Every binding of the console's key tables has an ``id``; :data:`BINDING_IDS` lists them without
importing the screens (the action screens load when first opened), and a test keeps it equal to the ids
the key tables declare. An unknown id or a key Textual does not know is a :class:`ConfigError` naming the
file, the line, the field (``keymap.<id>``) and the value. The footer shows the remapped keys (it reads
the screen's active bindings); help and the command palette apply the same map (:func:`remapped`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Protocol, runtime_checkable

from textual.binding import Binding
from textual.keys import Keys, key_to_character

if TYPE_CHECKING:  # pragma: no cover
    from ..core.config.console import ConsoleConfig

#: Every binding id of the console's key tables (dashboard, panes, prompt lab, batch forms, incident,
#: profile switcher, replay). tests/functional/test_keymap.py checks it against the tables.
BINDING_IDS: frozenset[str] = frozenset({
    "batch-browser-close", "batch-next-job", "batch-previous-job", "batch-submit", "batch-submit-browse",
    "batch-submit-close", "batch-submit-send", "cancel-job", "capacity-plan", "clear-filter", "close-filter",
    "confirm-no", "confirm-yes", "filter", "fleet-back", "fleet-drill", "fleet-group", "help", "incident", "incident-close", "incident-export", "next-pane",
    "pane-batch", "pane-quota", "pane-reservations", "pane-throttles", "pause", "previous-pane", "prompt-back",
    "prompt-cancel", "prompt-dashboard", "prompt-help", "prompt-history", "prompt-history-newer",
    "prompt-history-older", "prompt-lab", "prompt-send", "quit", "refresh", "replay-back", "replay-faster",
    "replay-forward", "replay-jump", "replay-play", "replay-play-p", "replay-slower", "restore", "switch-profile",
    "switcher-close",
})

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
#: Named keys besides printable characters and their names (``question_mark``, ``full_stop``).
NAMED_KEYS = frozenset(k.value for k in Keys if "+" not in k.value and not k.value.startswith("<")
                       and k.value != "ctrl-at")


def key_problem(key: str) -> str | None:
    """What is wrong with one key as Textual names keys (``ctrl+s``, ``f5``, ``question_mark``, ``?``),
    or None when it is a key."""
    *modifiers, base = key.strip().split("+") if key.strip() != "+" else ["+"]
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        return f"{unknown[0]!r} is not a modifier (one of {', '.join(sorted(MODIFIERS))})"
    if not base:
        return "a key is missing after '+'"
    if len(base) == 1 and base.isprintable() or base in NAMED_KEYS:
        return None
    if base not in MODIFIERS and key_to_character(base) is not None:
        return None
    return (f"{base!r} is not a key (keys are named as Textual names them: a, 1, f5, enter, escape, tab, space, "
            "up, pageup, question_mark, or ctrl+, shift+, alt+ before one)")


def checked_keymap(config: ConsoleConfig) -> dict[str, str]:
    """The config's keymap once every binding id and key is known. Raises ConfigError naming the file,
    the line, ``keymap.<id>`` and the value."""
    from ..core.domain.catalog import show  # noqa: PLC0415 - only when there is a keymap to check

    for binding_id, keys in config.keymap.items():
        if binding_id not in BINDING_IDS:
            import difflib  # noqa: PLC0415 - only for a mistyped id

            near = difflib.get_close_matches(binding_id, sorted(BINDING_IDS), n=1)
            hint = f" (did you mean {near[0]}?)" if near else " (`?` in the console lists keys; README lists ids)"
            raise config.error(binding_id, f"{show(binding_id)} is not a binding id{hint}")
        for key in keys.split(","):
            problem = key_problem(key)
            if problem is not None:
                raise config.error(binding_id, f"{show(keys)}: {problem}")
    return dict(config.keymap)


def load_keymap() -> dict[str, str]:
    """The operator's checked keymap from the console config (empty without one). Raises ConfigError."""
    from ..core.config.console import load_console_config  # noqa: PLC0415 - the YAML loader, at start only

    return checked_keymap(load_console_config())


@runtime_checkable
class KeymapHost(Protocol):
    """An app that knows its operator's keymap (the console and the replay)."""

    keymap: Mapping[str, str]


def remapped(bindings: Iterable[Binding], keymap: Mapping[str, str]) -> list[Binding]:
    """``bindings`` with the keys the keymap gives their ids (as Textual applies it to the footer)."""
    return [b.with_key(keymap[b.id], key_display=None) if b.id and b.id in keymap else b for b in bindings]
