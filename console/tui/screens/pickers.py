"""A small modal list to choose one item (a model for the capacity plan)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..widgets.marked import MarkedOptionList


class Picker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    Picker { align: center middle; }
    Picker > Vertical { width: 70; height: auto; max-height: 80%; border: round $accent; background: $surface; }
    Picker OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, title: str, items: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.items = items  # (value, label)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = "enter choose · esc cancel"
            yield MarkedOptionList(*(Option(label, id=value) for value, label in self.items))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
