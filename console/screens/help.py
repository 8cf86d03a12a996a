"""Key help, drawn from the same binding table as the footer and the command palette."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", show=False),
    ]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self.bindings = list(bindings)

    def rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every binding, plus the app's command palette."""
        # The real key, not the footer's shorthand ("1-4").
        rows = [(self.app.get_key_display(replace(b, key_display=None)), b.tooltip or b.description)
                for b in self.bindings]
        rows.append((self.app.get_key_display(Binding(self.app.COMMAND_PALETTE_BINDING, "")), "Command palette"))
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
