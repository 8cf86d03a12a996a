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

_DASHBOARD_PANES: dict[str, str] = {
    "batch-next-job": "down", "batch-previous-job": "up", "clear-filter": "escape", "close-filter": "escape",
    "incident": "enter",
}
_PANE_KEYS: dict[str, str] = {
    "pane-reservations": "1", "pane-quota": "2", "pane-throttles": "3", "pane-batch": "4", "next-pane": "tab",
    "previous-pane": "shift+tab", "filter": "slash", "help": "question_mark", "quit": "q", "restore": "escape",
}
#: Screen → binding id → default keys: the bindings an operator can reach at the same time (the screen's
#: table, its widgets' and, for the replay, the dashboard's it inherits). A remapped key is checked against
#: the other bindings of each screen its binding is on. tests/functional/test_keymap.py checks every id and
#: default key against the key tables themselves.
SCREENS: dict[str, dict[str, str]] = {
    "the dashboard": {
        **_DASHBOARD_PANES, **_PANE_KEYS, "batch-submit": "b", "cancel-job": "x", "capacity-plan": "c",
        "pause": "p", "prompt-lab": "t", "refresh": "r", "switch-profile": "a", "events": "e",
        "fleet-back": "escape",
    },
    "the replay": {
        **_DASHBOARD_PANES, **_PANE_KEYS, "batch-submit": "b", "cancel-job": "x", "capacity-plan": "c",
        "pause": "p", "prompt-lab": "t", "refresh": "r", "switch-profile": "a", "events": "e",
        "replay-back": "comma", "replay-faster": "plus,equals_sign", "replay-forward": "full_stop",
        "replay-jump": "g", "replay-play": "space", "replay-play-p": "p", "replay-slower": "minus",
    },
    "the prompt lab": {
        "prompt-back": "escape", "prompt-cancel": "escape", "prompt-dashboard": "f2", "prompt-help": "f1",
        "prompt-history": "ctrl+r", "prompt-send": "ctrl+enter,ctrl+s", "prompt-history-newer": "down",
        "prompt-history-older": "up",
    },
    "the batch submit form": {
        "batch-browser-close": "escape", "batch-submit-browse": "ctrl+o", "batch-submit-close": "escape",
        "batch-submit-send": "ctrl+enter,ctrl+s",
    },
    "the cancel confirmation": {"confirm-no": "n,escape", "confirm-yes": "y"},
    "the incident view": {"incident-close": "escape,q", "incident-export": "e"},
    "the profile switcher": {"switcher-close": "escape"},
    "the fleet": {"fleet-drill": "enter", "filter": "slash", "fleet-group": "g", "refresh": "r",
                  "help": "question_mark", "quit": "q", "close-filter": "escape", "clear-filter": "escape",
                  "fleet-back": "escape"},
    "the capacity plan": {"quota-request": "i"},
    "the events view": {"events-close": "escape,q,e"},
    "the quota request": {"quota-request-close": "escape,q", "quota-request-submit": "s"},
}
#: Every binding id of the console's key tables (dashboard, panes, prompt lab, batch forms, incident,
#: profile switcher, replay), without importing the screens (the action screens load when first opened).
BINDING_IDS: frozenset[str] = frozenset(i for bindings in SCREENS.values() for i in bindings)

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
    conflict = _first_conflict(config.keymap)
    if conflict is not None:
        binding_id, message = conflict
        raise config.error(binding_id, message)
    return dict(config.keymap)


_NAMED = {"slash": "/", "plus": "+"}  # names key_to_character does not turn into their character


def _canonical(key: str) -> str:
    """One spelling of a key: the printable character a name stands for (``question_mark`` and ``?`` are one key)."""
    char = key_to_character(key) if key != "+" else "+"
    if char is not None and len(char) == 1 and char.isprintable():
        return char
    return _NAMED.get(key, key)


def _keys(keys: str) -> set[str]:
    return {_canonical(k.strip()) for k in keys.split(",") if k.strip()}


def _first_conflict(keymap: Mapping[str, str]) -> tuple[str, str] | None:
    """The first remapped binding (in the config's order) whose key another binding of the same screen
    answers after remapping (the later entry of two is named), where they did not share it by default (``escape`` closes a filter and restores
    a pane on purpose), as (binding id, message); None when there is none."""
    order = list(keymap)
    for binding_id, keys in keymap.items():
        for screen, bindings in SCREENS.items():
            if binding_id not in bindings:
                continue
            mine = _keys(keys)
            for other, default in bindings.items():
                if other == binding_id or other in keymap and order.index(other) > order.index(binding_id):
                    continue  # a later entry that takes the same key is the one named
                theirs = _keys(keymap.get(other, default))
                clash = sorted((mine & theirs) - (_keys(bindings[binding_id]) & _keys(default)))
                if clash:
                    return binding_id, (f"{clash[0]!r} is already the key of {other} in {screen}; give one of "
                                        "them another key")
    return None


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
