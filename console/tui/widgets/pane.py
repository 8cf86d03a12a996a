"""The frame every dashboard pane shares: a titled border, a stale banner, and change detection."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Hashable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from ...core.domain import format as fmt
from ...core.domain.views import PaneStatus

if TYPE_CHECKING:
    from typing_extensions import Self
from .render import Palette, changed_regions, to_strips


class StaleBanner(Static):
    """One line (wrapping if needed) saying the pane's data is old, how old, and why."""

    def show_status(self, status: PaneStatus, now: float) -> None:
        self.display = not status.ok
        if status.ok:
            return
        when = "no data yet" if status.updated_at is None else f"last good data {fmt.age(status.age(now))}"
        text = Text.assemble(("STALE", "bold"), f" · {when}")
        if status.reason:
            text.append(f" · {status.reason}")
        self.update(text)


class Body(Widget):
    """A pane body drawn from data held in ``self.data``; redraws only when that data changes.

    Subclasses implement ``build(width, palette)`` returning lines of Rich Text. The body is a
    Line API widget: the lines are built once and kept as strips until something changes (the
    data, the width, a reactive such as ``warn_at``, the theme), and a new refresh lays the screen
    out again only when the number of lines changed. New data repaints only the cells that differ
    from the lines on screen (:func:`~.render.changed_regions`): over SSH a refresh where one
    figure moved sends that figure, not the pane.
    """

    DEFAULT_CSS = "Body { height: auto; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data: Any = None
        self._key: Hashable | object = object()
        self._strips: list[Strip] | None = None
        self._strips_width = -1
        self.renders = 0  # how many times the lines were built (tests check redraws are skipped)
        self.repainted: list[Region] | None = None  # what the last new data repainted (None: the whole body)

    def set_data(self, data: Any, key: Any = None) -> bool:
        """Store ``data`` and redraw if ``key`` (default: the data itself) differs from last time."""
        key = data if key is None else key
        if key == self._key:
            return False
        self._key = key
        self.data = data
        old, old_width = self._strips, self._strips_width
        self._strips = None
        self.repainted = None
        width = self.size.width
        if old is None or width <= 0:
            Widget.refresh(self, layout=True)  # not our refresh(): it would drop the lines just built
            return True
        new = self.strips(width)
        if len(new) != len(old):
            Widget.refresh(self, layout=True)
        elif width != old_width:
            Widget.refresh(self)
        else:
            # Only the cells that changed go to the terminal: one figure, not the pane.
            self.repainted = changed_regions(old, new, width)
            if self.repainted:
                Widget.refresh(self, *self.repainted)
        return True

    # Anything that repaints the widget (a reactive changing, a style or theme update) may change
    # what build() draws, so it drops the built lines.
    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        if repaint:
            self._strips = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def notify_style_update(self) -> None:
        self._strips = None
        super().notify_style_update()

    def strips(self, width: int) -> list[Strip]:
        """The body's lines at ``width`` cells, built on first use and kept until something changes."""
        if self._strips is None or self._strips_width != width:
            self.renders += 1
            palette = Palette(self)
            if self.data is None:
                lines = [Text("waiting for data…", style=palette["muted"])]
            else:
                lines = self.build(width, palette)
            self._strips = to_strips(lines, width, self.rich_style, self.app.console)
            self._strips_width = width
        return self._strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.strips(width)) if width else 0

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self.strips(width)
        return lines[y] if 0 <= y < len(lines) else Strip.blank(width, self.rich_style)

    def build(self, width: int, palette: Palette) -> list[Text]:
        raise NotImplementedError


class Pane(Vertical):
    """A titled, focusable-within dashboard pane. ``PANE`` is its name in ``DashboardData.status``."""

    PANE: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    KEY: ClassVar[str] = ""
    ALLOW_MAXIMIZE = False
    _subtitle_only = False  # set_subtitle is repainting: only the bottom border line changes

    def __init__(self) -> None:
        super().__init__(id=self.PANE, classes="pane")
        self.border_title = f"[{self.KEY}] {self.TITLE}" if self.KEY else self.TITLE
        self.status = PaneStatus()
        self._status_key: tuple | None = None

    def compose(self) -> ComposeResult:
        yield StaleBanner(classes="stale-banner")
        yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def focus_target(self) -> Widget:
        """The widget that takes focus when the pane is selected."""
        return self.query_one(".pane-focus")

    @property
    def stale(self) -> bool:
        return not self.status.ok

    def set_status(self, status: PaneStatus | None, now: float) -> None:
        status = status or PaneStatus()
        # An ok pane needs no redraw as time passes; a stale one shows a growing age.
        key = (status, None if status.ok else int(now))
        if key == self._status_key:
            return
        self._status_key = key
        self.status = status
        self.set_class(not status.ok, "-stale")
        self.query_one(StaleBanner).show_status(status, now)

    def set_subtitle(self, text: str) -> None:
        """A plain-text subtitle: names and filters from data or the operator are escaped, never read as markup."""
        from textual.markup import escape  # noqa: PLC0415

        text = escape(text)
        if self.border_subtitle != text:
            self._subtitle_only = True
            try:
                self.border_subtitle = text  # Textual repaints the whole pane here: see refresh()
            finally:
                self._subtitle_only = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        if self._subtitle_only and not regions and not layout and not recompose:
            # The subtitle is drawn on the bottom border: repaint that line, not the pane and every
            # widget in it (over SSH a new "12 events" would otherwise resend the whole pane).
            width, height = self.outer_size
            left, top = self.content_offset
            regions = (Region(-left, height - 1 - top, width, 1),)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)


class ScrollBody(VerticalScroll, can_focus=True):
    """The focusable scroller that holds a pane's :class:`Body`."""

    ALLOW_MAXIMIZE = False
