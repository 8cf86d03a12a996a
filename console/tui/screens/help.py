"""Key help, drawn from the same binding table as the footer and the command palette."""
from __future__ import annotations

from typing import Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

from ..keymap import KeymapHost, remapped


#: How help names a key: as it is printed on the keyboard, spelled out (the footer uses ``^s``, ``⏎``).
_KEY_NAMES = {"escape": "esc", "enter": "enter", "question_mark": "?", "slash": "/", "space": "space",
              "up": "↑", "down": "↓", "left": "←", "right": "→", "pageup": "page up", "pagedown": "page down",
              "minus": "-", "plus": "+", "equals_sign": "="}


def key_names(keys: str) -> str:
    """A binding's keys as typed: ``ctrl+enter,ctrl+s`` → ``ctrl+enter / ctrl+s``, ``question_mark`` → ``?``."""
    names = []
    for key in keys.split(","):
        *modifiers, name = key.strip().split("+")
        names.append("+".join([*modifiers, _KEY_NAMES.get(name, format_key(name))]))
    return " / ".join(names)


#: What the panes' marks mean (they are glyphs, so they read without colour).
MARKS = ("\nMarks: ▲ at or over the alert threshold · ✖ a measured minute over the quota · ~ an estimate: the "
         "trailing minute spreads the previous minute evenly over it, so an early spike can read high (it is never "
         "✖ alone) · ◆ the quota that binds (closest to its limit)")


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", show=False),
    ]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self.bindings = list(bindings)

    def rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every binding (with the operator's keymap), plus the app's command palette."""
        keymap = self.app.keymap if isinstance(self.app, KeymapHost) else {}
        rows = [(key_names(b.key), b.tooltip or b.description) for b in remapped(self.bindings, keymap)]
        rows.append((key_names(self.app.COMMAND_PALETTE_BINDING), "Command palette"))
        return rows

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", justify="right")
        table.add_column()
        for keys, text in self.rows():
            table.add_row(keys, text)
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc closes"
            yield Static(table, id="help-keys")
            yield Static(MARKS, id="help-marks")
