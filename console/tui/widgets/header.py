"""The one-line header: where we are looking (profile, account, region, endpoint), and how fresh it is."""
from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Tuple

from rich.text import Text

from ...core.domain import format as fmt
from ...core.domain.alerts import DEFAULT_THRESHOLD, over_text, quotas_over
from ...core.domain.views import PANES, DashboardData
from .pane import Body
from .render import Palette


@dataclass(frozen=True)
class HeaderInfo:
    """What the header shows. Ages are whole seconds, so an unchanged header is an equal value
    (the dashboard's one-second tick then redraws nothing)."""

    profile: str
    account_id: str | None
    region: str
    endpoint: str | None
    is_sandbox: bool
    time: float | None  # when the shown data was collected
    data_age: int | None  # seconds between the oldest pane update and now
    stale: tuple[str, ...]  # names of stale panes
    paused: bool
    read_only: bool = False
    over: int = 0  # quotas at or over the alert threshold
    threshold: float = DEFAULT_THRESHOLD
    retry_in: int | None = None  # seconds until the poller tries again (panes stale, backing off)
    paused_for: int | None = None  # seconds since live updates were paused

    @classmethod
    def from_data(cls, data: DashboardData | None, paused: bool = False, *, elapsed: float = 0.0,
                  threshold: float = DEFAULT_THRESHOLD, retry_in: int | None = None,
                  paused_for: int | None = None) -> "HeaderInfo":
        """``elapsed``: seconds since ``data`` arrived (a live dashboard's ages keep growing)."""
        if data is None:
            return cls("", None, "", None, False, None, None, (), paused, threshold=threshold, paused_for=paused_for)
        oldest = data.oldest_update
        age = None if oldest is None else max(0.0, data.time - oldest) + elapsed
        stale = tuple(p for p in PANES if not data.pane_status(p).ok)
        return cls(
            profile=data.profile, account_id=data.account_id, region=data.region, endpoint=data.endpoint,
            is_sandbox=data.is_sandbox, time=data.time,
            data_age=int(age) if age is not None and math.isfinite(age) else None,  # NaN/inf: a recording's
            stale=stale, paused=paused, read_only=data.read_only,
            over=len(quotas_over(data.quotas, threshold)), threshold=threshold,
            retry_in=retry_in if stale and not paused else None, paused_for=paused_for if paused else None,
        )


_Part = Tuple[int, Text, bool]  # (importance, text, is_badge)


class HeaderBar(Body):
    """Segments are dropped from least to most important when the terminal is narrow."""

    DEFAULT_CSS = "HeaderBar { height: 1; }"

    def on_mount(self) -> None:
        self.set_data(HeaderInfo.from_data(None))

    def build(self, width: int, palette: Palette) -> list[Text]:
        info: HeaderInfo = self.data
        # Drop the endpoint first, then the labels, then fields from the least important.
        for labelled, keep_from in ((True, 2), (False, 99)):
            left, right = self._parts(info, palette, labelled)
            while self._width(left, right, palette) > width:
                drop = min(left + right, key=lambda part: part[0])
                if drop[0] >= keep_from:
                    break
                (left if drop in left else right).remove(drop)
            if self._width(left, right, palette) <= width:
                break
        head, tail = _joined(left, palette), _joined(right, palette)
        return [Text.assemble(head, " " * max(1, width - head.cell_len - tail.cell_len - 1), tail, " ")]

    @staticmethod
    def _width(left: list[_Part], right: list[_Part], palette: Palette) -> int:
        return _joined(left, palette).cell_len + _joined(right, palette).cell_len + 2

    @staticmethod
    def _parts(info: HeaderInfo, palette: Palette, labelled: bool) -> tuple[list[_Part], list[_Part]]:
        """(left, right) parts as (importance, text, is_badge); the least important go first."""
        muted, strong = palette["muted"], palette["strong"]

        def field(label: str, value: str) -> Text:
            return Text.assemble((f"{label} ", muted), (value, strong)) if labelled else Text(value, strong)

        left: list[_Part] = [(9, Text(" tierconsole ", style=palette["badge-accent"]), True)]
        if info.is_sandbox:
            left.append((8, Text(" SANDBOX ", style=palette["badge-warn"]), True))
        if info.read_only:
            left.append((9, Text(" READ-ONLY ", style=palette["badge-crit"]), True))
        if info.profile:
            left.append((6, field("profile", info.profile), False))
        if info.account_id:
            left.append((5, field("acct", info.account_id), False))
        if info.region:
            left.append((7, field("region", info.region), False))
        if info.endpoint:
            left.append((1, Text(info.endpoint, style=muted), False))
        right: list[_Part] = []
        if info.time is None:
            right.append((5, Text("waiting for data", style=muted), False))
        else:
            right.append((3, field("refreshed", f"{fmt.clock(info.time)} UTC"), False))
            if info.data_age is not None:
                right.append((4, Text.assemble(("data age " if labelled else "age ", muted),
                                               (fmt.duration(info.data_age), strong)), False))
        if info.over:
            right.append((8, Text(f"▲ {over_text(info.over, info.threshold)}", style=palette["warn"]), False))
        if info.stale:
            retry = "" if info.retry_in is None else " · retrying now" if info.retry_in == 0 else \
                f" · retrying in {info.retry_in} s"
            right.append((8, Text(f"⚠ {len(info.stale)} stale{retry}", style=palette["warn"]), False))
        if info.paused:
            since = f"{fmt.duration(info.paused_for)} " if info.paused_for is not None else ""
            right.append((10, Text(f" PAUSED {since}", style=palette["badge-crit"]), True))
        return left, right


def _joined(parts: list[_Part], palette: Palette) -> Text:
    out = Text()
    prev_badge = True
    for i, (_, text, badge) in enumerate(parts):
        if i:
            out.append(" " if badge or prev_badge else " │ ", palette["empty"])
        out.append_text(text)
        prev_badge = badge
    return out


@dataclass(frozen=True)
class ContextInfo:
    """Where an action screen's calls go: shown on its first line so the operator never has to guess."""

    title: str
    profile: str = ""
    account_id: str | None = None
    region: str = ""
    is_sandbox: bool = False
    read_only: bool = False


class ContextBar(Body):
    """The one-line header of the action screens: title, SANDBOX / READ-ONLY, profile, account, region."""

    DEFAULT_CSS = "ContextBar { height: 1; }"

    def build(self, width: int, palette: Palette) -> list[Text]:
        info: ContextInfo = self.data
        muted, strong = palette["muted"], palette["strong"]
        parts: list[_Part] = [(9, Text(" tierconsole ", style=palette["badge-accent"]), True),
                              (9, Text(f" {info.title} ", style=palette["strong"]), True)]
        if info.is_sandbox:
            parts.append((8, Text(" SANDBOX ", style=palette["badge-warn"]), True))
        if info.read_only:
            parts.append((9, Text(" READ-ONLY ", style=palette["badge-crit"]), True))
        parts.append((6, Text.assemble(("profile ", muted), (info.profile or "—", strong)), False))
        parts.append((5, Text.assemble(("acct ", muted), (info.account_id or "…", strong)), False))
        if info.region:
            parts.append((7, Text.assemble(("region ", muted), (info.region, strong)), False))
        while _joined(parts, palette).cell_len > width and len(parts) > 2:
            parts.remove(min(parts, key=lambda part: part[0]))
        return [_joined(parts, palette)]
