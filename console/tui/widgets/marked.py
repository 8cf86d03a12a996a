"""Lists whose selected row stays visible without colour (NO_COLOR): drawn in reverse video.

Textual's own ``:nocolor`` rules set ``text-style: reverse`` on an option list's highlight and a tree's
cursor, but those widgets draw through Textual's visual styles, which drop ``reverse`` (Textual 8): the
highlight comes out as a background one grey off its neighbours'. These subclasses add the reverse video
themselves, only under NO_COLOR (in colour they look exactly like Textual's)."""
from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import DirectoryTree, OptionList

_REVERSE = Style(reverse=True)


def reversed_strip(strip: Strip) -> Strip:
    """``strip`` in reverse video (over whatever styles its segments have)."""
    return Strip(Segment.apply_style(iter(strip), post_style=_REVERSE), strip.cell_length)


class MarkedOptionList(OptionList):
    """An :class:`OptionList` whose highlighted option is reverse video under NO_COLOR."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self.app.no_color and self.highlighted is not None:
            try:
                option_index = self._lines[self.scroll_offset.y + y][0]
            except IndexError:
                return strip
            if option_index == self.highlighted:
                return reversed_strip(strip)
        return strip


class MarkedDirectoryTree(DirectoryTree):
    """A :class:`DirectoryTree` whose cursor line is reverse video under NO_COLOR."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self.app.no_color and self.cursor_line >= 0 and self.scroll_offset.y + y == self.cursor_line:
            return reversed_strip(strip)
        return strip
