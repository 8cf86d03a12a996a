"""Lists whose selected row stays visible without colour (NO_COLOR): drawn in reverse video.

Textual's own ``:nocolor`` rules set ``text-style: reverse`` on an option list's highlight and a tree's
cursor, but those widgets draw through Textual's visual styles, which drop ``reverse`` (Textual 8): the
highlight comes out as a background one grey off its neighbours'. These subclasses add the reverse video
themselves, only under NO_COLOR (in colour they look exactly like Textual's)."""
from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.strip import Strip
from textual.widgets import DirectoryTree, OptionList, Select
from textual.widgets._select import SelectCurrent, SelectOverlay

_REVERSE = Style(reverse=True)


def reversed_strip(strip: Strip) -> Strip:
    """``strip`` in reverse video (over whatever styles its segments have)."""
    return Strip(Segment.apply_style(iter(strip), post_style=_REVERSE), strip.cell_length)


class _ReversedHighlight:
    """For an :class:`OptionList` (or a subclass): the highlighted option in reverse video under NO_COLOR."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)  # type: ignore[misc]
        if self.app.no_color and self.highlighted is not None:  # type: ignore[attr-defined]
            try:
                option_index = self._lines[self.scroll_offset.y + y][0]  # type: ignore[attr-defined]
            except IndexError:
                return strip
            if option_index == self.highlighted:  # type: ignore[attr-defined]
                return reversed_strip(strip)
        return strip


class MarkedOptionList(_ReversedHighlight, OptionList):
    """An :class:`OptionList` whose highlighted option is reverse video under NO_COLOR."""


class _MarkedSelectOverlay(_ReversedHighlight, SelectOverlay):
    """A :class:`Select`'s drop-down list, its highlighted option reverse video under NO_COLOR."""


class MarkedSelect(Select):
    """A :class:`Select` whose drop-down marks its highlighted option without colour (as Textual's own
    ``Select.compose``, with the marked overlay)."""

    def compose(self) -> ComposeResult:
        yield SelectCurrent(self.prompt)
        yield _MarkedSelectOverlay(type_to_search=self._type_to_search).data_bind(compact=Select.compact)


class MarkedDirectoryTree(DirectoryTree):
    """A :class:`DirectoryTree` whose cursor line is reverse video under NO_COLOR."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self.app.no_color and self.cursor_line >= 0 and self.scroll_offset.y + y == self.cursor_line:
            return reversed_strip(strip)
        return strip
