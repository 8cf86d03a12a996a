"""The footer: the screen's shown key bindings on one line, drawn by one widget.

Textual's ``Footer`` recomposes one widget per key each time the bindings change (every focus
change, every filter keystroke that toggles a binding), and restyling those widgets cost about
100 ms a time on a dashboard holding 100k events (``bench/scale.py``). This bar keeps the same
content and behaviour (shown bindings in the focus chain's order, one per action, disabled ones
dimmed, a click presses the key, the command palette key on the right, tooltips on hover) as one
line of text, and repaints only when that line changes.
"""
from __future__ import annotations

from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from .render import to_strips


class KeyItem(NamedTuple):
    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    keep: bool = False  # kept when the bar is short of room (quit, help, the focused pane's keys)


#: Actions the bar keeps on any screen, however narrow: leaving, and finding every other key.
KEEP_ACTIONS = frozenset({"quit", "app.quit", "help", "app.help"})


class KeyBar(Widget):
    """One line of ``key description`` pairs for the current screen's shown bindings."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--palette"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .key-bar--palette {
        color: $foreground 20%;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.items: tuple[KeyItem, ...] = ()
        self.palette_item: KeyItem | None = None
        self._spans: list[tuple[int, int, KeyItem]] = []  # (start, end, item) cells, for tooltips
        self._strip: Strip | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.update_items()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.update_items()

    def update_items(self) -> bool:
        """Read the screen's active bindings; repaint only if what the bar shows changed."""
        app = self.app
        screen = self.screen
        active = screen.active_bindings
        # A screen may name the binding ids that matter most where the focus is (the dashboard: the
        # current pane's keys); bindings of the focused widgets themselves are kept too.
        keep_ids = screen.footer_keep() if hasattr(screen, "footer_keep") else set()
        seen: set[str] = set()
        items = []
        for node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            keep = node is not screen and node is not app or binding.action in KEEP_ACTIONS \
                or binding.id in keep_ids
            items.append(KeyItem(binding.key, app.get_key_display(binding), binding.description, enabled,
                                 tooltip or binding.tooltip or binding.description, keep))
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = KeyItem(binding.key, app.get_key_display(binding), binding.description, enabled,
                              binding.tooltip or binding.description)
        items_t = tuple(items)
        if items_t == self.items and palette == self.palette_item:
            return False
        self.items, self.palette_item = items_t, palette
        self.refresh()
        return True

    def _pair(self, item: KeyItem, key_style: Style, description_style: Style, pad: str = " ") -> Text:
        """`` key description `` as Textual's footer draws it; a click presses the key."""
        click = Style(meta={"@click": f"app.simulate_key({item.key!r})" if item.enabled else "app.bell"})
        text = Text.assemble((f"{pad}{item.display} ", key_style + click))
        if item.description:
            text.append(f"{item.description} ", description_style + click)
        if not item.enabled:
            text.stylize(Style(dim=True))
        return text

    # Drawn as one cached strip: the bar repaints with every focus change (its colours follow the
    # theme), and rebuilding the line each time cost ~2 ms a frame.
    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False):
        if repaint:
            self._strip = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def notify_style_update(self) -> None:
        self._strip = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._strip is None or self._strip.cell_length != width:
            self._strip = to_strips([self.line(width)], width, self.rich_style, self.app.console)[0]
        return self._strip if y == 0 else Strip.blank(width, self.rich_style)

    def line(self, width: int) -> Text:
        """The bar's text at ``width`` cells; records where each key is, for tooltips."""
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        right = Text()
        if self.palette_item is not None:  # kept at the right edge; the keys are cut short of it
            right = Text.assemble(("▏", self.get_component_rich_style("key-bar--palette")),
                                  self._pair(self.palette_item, key_style, description_style, pad=""))
        room = max(0, width - right.cell_len)
        line = Text(no_wrap=True, overflow="crop", end="")
        spans = []
        for item in self._fitting(room, key_style, description_style):
            start = line.cell_len
            if start >= room:
                break
            line.append_text(self._pair(item, key_style, description_style))
            spans.append((start, min(room, line.cell_len), item))
        if line.cell_len > room:
            line.truncate(room)
        if right:
            line.append(" " * (room - line.cell_len))
            spans.append((room + 1, width, self.palette_item))
            line.append_text(right)
        self._spans = spans
        return line

    def _fitting(self, room: int, key_style: Style, description_style: Style) -> list[KeyItem]:
        """The items to show in ``room`` cells: all of them if they fit; else the kept ones and, in
        order, as many others as fit (the rest are in help). Order is kept."""
        widths = [self._pair(item, key_style, description_style).cell_len for item in self.items]
        if sum(widths) <= room:
            return list(self.items)
        left = room - sum(w for item, w in zip(self.items, widths) if item.keep)
        shown = []
        for item, w in zip(self.items, widths):
            if not item.keep:
                if w > left:
                    continue
                left -= w
            shown.append(item)
        return shown

    def item_at(self, x: int) -> KeyItem | None:
        return next((item for start, end, item in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        item = self.item_at(event.x)
        tip = item.tooltip if item is not None else None
        if tip != self.tooltip:
            self.tooltip = tip

    def on_leave(self) -> None:
        self.tooltip = None
