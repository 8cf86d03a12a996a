"""The one-line header: where we are looking (profile, account, region, endpoint), and how fresh it is."""
from __future__ import annotations

import math
import re

from dataclasses import dataclass, replace
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
    pulse: str = ""  # the fleet's pulse line, when the console watches a fleet ("3 accounts over 80% · …")

    @classmethod
    def from_data(cls, data: DashboardData | None, paused: bool = False, *, elapsed: float = 0.0,
                  threshold: float = DEFAULT_THRESHOLD, retry_in: int | None = None,
                  paused_for: int | None = None, pulse: str = "") -> "HeaderInfo":
        """``elapsed``: seconds since ``data`` arrived (a live dashboard's ages keep growing)."""
        if data is None:
            return cls("", None, "", None, False, None, None, (), paused, threshold=threshold, paused_for=paused_for,
                       pulse=pulse)
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
            pulse=pulse,
        )


_Part = Tuple[int, Text, bool]  # (importance, text, is_badge)

#: The PAUSED badge's place: always kept free, so pausing (``p``) draws the badge there and moves nothing.
#: " PAUSED 4m05s " (fmt.duration is at most five characters).
PAUSE_SLOT = 14
#: Room kept for the right-hand status when fitting where the console looks: labels and the ``tierconsole``
#: badge on the left only with room for the labelled status, room for the clock (a replay's frame time)
#: before the endpoint is cut, and at least "age 14s │ ▲ 1 over 80%" always.
STATUS_ROOM = {"labelled": 58, "clock": 43, "least": 22}
#: The shortest an endpoint is cut to before fields beside it are given up.
ENDPOINT_MIN = 20
#: Room for the fleet's pulse on the header's line ("fleet: 12 accts over 80% · 3 throttling · 2 stale"); with
#: less, the pulse has a line of its own (:meth:`HeaderBar.build`, :class:`ContextBar`).
PULSE_ROOM = 52


def pulse_line(pulse: str, width: int, palette: Palette) -> Text:
    """The fleet's pulse on a line of its own (cut at the end, never left out)."""
    text = Text.assemble(" ", Text(f"fleet: {pulse}", style=palette["warn"]))
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    return text


def endpoint_text(endpoint: str | None) -> str:
    """The endpoint as the header names it: host and port without the scheme; ``AWS`` when the SDK
    chooses it (no ``--endpoint-url``, ``AWS_ENDPOINT_URL`` or sandbox)."""
    if not endpoint:
        return "AWS"
    host = fmt.safe_endpoint(endpoint).split("://", 1)[-1]  # never a user-info part (credentials)
    return host.rstrip("/") or endpoint


def shorten_host(host: str, width: int) -> str:
    """``host`` in at most ``width`` cells, cut in the middle so its ends stay: the port of an address
    (``127.0…:48213``), the domain of a name (``bedrock-ru…amazonaws.com``)."""
    if len(host) <= width:
        return host
    if width < 6:
        return host[:width]
    keep = width - 1
    end = re.search(r"(:\d+|[^.:/]+\.[^.:/]+)$", host)
    tail = end.group(1) if end else ""
    if not tail or len(tail) > keep - 2:
        tail = host[-(keep // 2):]
    return f"{host[:keep - len(tail)]}…{tail}"


class HeaderBar(Body):
    """Where the console looks on the left, how fresh it is on the right, PAUSED between them.

    The layout depends on the width and on what stays the same for a session (profile, account,
    region, endpoint, SANDBOX, READ-ONLY), never on pausing: the PAUSED badge has a place kept free
    for it right after the endpoint. Narrow terminals lose the field labels first, then the
    ``tierconsole`` badge, then the endpoint is shortened (never dropped), then region and account
    go; the right-hand status gives up its parts from the least important in the room left.
    """

    DEFAULT_CSS = "HeaderBar { height: auto; }"

    def on_mount(self) -> None:
        if self.data is None:  # the screen may have set it already (a fleet's pulse before any data)
            self.set_data(HeaderInfo.from_data(None))

    def build(self, width: int, palette: Palette) -> list[Text]:
        info: HeaderInfo = self.data
        if info.pulse and not self._pulse_fits(info, width, palette):
            # The fleet's pulse matters more than any field: a line of its own where the one line has no room
            # for it (80 columns; 120 beside a drill-in's badges). Decided by the width and what stays the same
            # for a session, never by the counts, so a new count moves nothing.
            return [self._line(replace(info, pulse=""), width, palette), pulse_line(info.pulse, width, palette)]
        return [self._line(info, width, palette)]

    def _pulse_fits(self, info: HeaderInfo, width: int, palette: Palette) -> bool:
        left = self._identity(info, palette, max(0, width - 1 - PAUSE_SLOT - 1))
        return left.cell_len + 2 + PAUSE_SLOT + PULSE_ROOM + 3 + STATUS_ROOM["least"] <= width

    def _line(self, info: HeaderInfo, width: int, palette: Palette) -> Text:
        left = self._identity(info, palette, max(0, width - 1 - PAUSE_SLOT - 1))
        slot = Text()
        if info.paused:
            since = f"{fmt.duration(info.paused_for)} " if info.paused_for is not None else ""
            slot = Text(f" PAUSED {since}", style=palette["badge-crit"])
        slot.pad_right(PAUSE_SLOT - slot.cell_len)
        head = Text.assemble(left, " ", slot)
        tail = self._status(info, palette, max(0, width - head.cell_len - 1))
        return Text.assemble(head, " " * max(1, width - head.cell_len - tail.cell_len), tail)

    @staticmethod
    def _identity(info: HeaderInfo, palette: Palette, room: int) -> Text:
        """Badges, profile, account, region and endpoint, leaving the status its room (:data:`STATUS_ROOM`)
        of the ``room`` cells if they can."""
        muted, strong = palette["muted"], palette["strong"]
        badges: list[_Part] = []
        if info.is_sandbox:
            badges.append((8, Text(" SANDBOX ", style=palette["badge-warn"]), True))
        if info.read_only:
            badges.append((9, Text(" READ-ONLY ", style=palette["badge-crit"]), True))
        if not info.profile:  # nothing to say yet (waiting for the first data)
            return _joined([(9, Text(" tierconsole ", style=palette["badge-accent"]), True), *badges], palette)
        host = endpoint_text(info.endpoint)
        fields = [("profile", info.profile), ("acct", info.account_id or "…"), ("region", info.region),
                  ("endpoint", host)]

        def line(labelled: bool, brand: bool, drop: tuple[str, ...] = (), endpoint: str = host) -> Text:
            parts = [(9, Text(" tierconsole ", style=palette["badge-accent"]), True)] if brand else \
                [(9, Text(""), True)] if not badges else []  # one space in front
            parts += badges
            for label, value in fields:
                if label in drop or not value:
                    continue
                value = endpoint if label == "endpoint" else value
                text = Text.assemble((f"{label} ", muted), (value, strong)) if labelled else Text(value, strong)
                parts.append((5, text, False))
            return _joined(parts, palette)

        def with_endpoint_cut(drop: tuple[str, ...], shortest: int) -> Text | None:
            over = line(False, False, drop).cell_len - room
            if over <= 0:
                return line(False, False, drop)
            if len(host) - over >= shortest:
                return line(False, False, drop, shorten_host(host, len(host) - over))
            return None

        for candidate, reserve in ((line(True, True), "labelled"), (line(True, False), "labelled"),
                                   (line(False, True), "labelled"), (line(False, False), "clock"),
                                   (line(False, False), "least")):
            if candidate.cell_len <= room - STATUS_ROOM[reserve]:
                return candidate
        room -= STATUS_ROOM["least"]
        for drop, shortest in (((), ENDPOINT_MIN), (("region",), ENDPOINT_MIN), (("region", "acct"), 8)):
            cut = with_endpoint_cut(drop, shortest)
            if cut is not None:
                return cut
        return line(False, False, ("region", "acct"), shorten_host(host, 8))

    @staticmethod
    def _status(info: HeaderInfo, palette: Palette, room: int) -> Text:
        """Freshness and alerts in at most ``room`` cells: labelled when there is room, then the least
        important parts left out (the clock first, alerts last)."""
        muted, strong = palette["muted"], palette["strong"]

        def parts(labelled: bool, long: bool = True) -> list[_Part]:
            out: list[_Part] = []
            if info.pulse:  # the fleet's, on every screen while it is watched: kept before the clock and the age
                out.append((6, Text(f"fleet: {info.pulse}", style=palette["warn"]), False))
            if info.time is None:
                out.append((5, Text("waiting for data", style=muted), False))
            else:
                out.append((3, Text.assemble(("refreshed ", muted) if labelled else "", (f"{fmt.clock(info.time)} UTC",
                                                                                       strong)), False))
                if info.data_age is not None:
                    out.append((4, Text.assemble(("data age " if labelled else "age ", muted),
                                                 (fmt.duration(info.data_age), strong)), False))
            if info.over:
                over = over_text(info.over, info.threshold) if long else \
                    f"{info.over} over {fmt.percent(info.threshold)}"
                out.append((8, Text(f"▲ {over}", style=palette["warn"]), False))
            if info.stale:
                retry = "" if info.retry_in is None else " · retrying now" if info.retry_in == 0 else \
                    f" · retrying in {info.retry_in} s"
                out.append((8, Text(f"⚠ {len(info.stale)} stale{retry}", style=palette["warn"]), False))
            return out

        # The labels and the long forms go before any part does.
        for form in ((True, True), (False, True), (False, False)):
            chosen = parts(*form)
            if _joined(chosen, palette).cell_len <= room:
                break
        else:
            while _joined(chosen, palette).cell_len > room and len(chosen) > 1:
                chosen.remove(min(chosen, key=lambda part: part[0]))
        if info.pulse and not any(text.plain.startswith("fleet: ") for _, text, _ in chosen):
            segments = info.pulse.split(" · ")  # the fleet's pulse, its last counts given up first
            for k in range(len(segments) - 1, 0, -1):
                short = [(6, Text(f"fleet: {' · '.join(segments[:k])}", style=palette["warn"]), False), *chosen]
                if _joined(short, palette).cell_len <= room:
                    chosen = short
                    break
        text = _joined(chosen, palette)
        if text.cell_len > room:
            text.truncate(room, overflow="ellipsis")
        return text


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
    pulse: str = ""  # the fleet's pulse, when the screen acts inside a fleet's account


class ContextBar(Body):
    """The header of the action screens: title, SANDBOX / READ-ONLY, profile, account, region — the target its
    calls go to. Nothing of the target is ever dropped: where one line has no room, labels go first, then the
    brand, then the target takes a line of its own (and the fleet's pulse one more)."""

    DEFAULT_CSS = "ContextBar { height: auto; }"

    def build(self, width: int, palette: Palette) -> list[Text]:
        info: ContextInfo = self.data
        muted, strong = palette["muted"], palette["strong"]
        head: list[_Part] = [(9, Text(f" {info.title} ", style=palette["strong"]), True)]
        if info.is_sandbox:
            head.append((8, Text(" SANDBOX ", style=palette["badge-warn"]), True))
        if info.read_only:
            head.append((9, Text(" READ-ONLY ", style=palette["badge-crit"]), True))
        brand: _Part = (9, Text(" tierconsole ", style=palette["badge-accent"]), True)
        target = [("profile", info.profile or "—"), ("acct", info.account_id or "…"), ("region", info.region)]

        def fields(labelled: bool) -> list[_Part]:
            return [(5, Text.assemble((f"{label} ", muted), (value, strong)) if labelled else Text(value, strong),
                     False) for label, value in target if value]

        # The pulse's room is reserved (PULSE_ROOM), not measured: a count that grows moves nothing.
        reserve = 3 + PULSE_ROOM if info.pulse else 0
        for parts in ([brand, *head, *fields(True)], [*head, *fields(True)], [*head, *fields(False)]):
            line = _joined(parts, palette)
            if line.cell_len + reserve <= width:
                pulse = Text(f"fleet: {info.pulse}", style=palette["warn"]) if info.pulse else None
                return [_joined([*parts, (4, pulse, False)], palette) if pulse else line]
        for parts in ([brand, *head, *fields(True)], [*head, *fields(True)], [*head, *fields(False)]):
            if info.pulse and _joined(parts, palette).cell_len <= width:  # the pulse alone on a second line
                return [_joined(parts, palette), pulse_line(info.pulse, width, palette)]
        spaced = [(9, Text(""), True)]  # one space in front, as the head's badges have
        own = _joined([*spaced, *fields(True)], palette)
        lines = [_joined(head, palette), own if own.cell_len <= width else
                 _crop(_joined([*spaced, *fields(False)], palette), width)]
        return [*lines, pulse_line(info.pulse, width, palette)] if info.pulse else lines


def _crop(text: Text, width: int) -> Text:
    """``text`` cut at ``width`` cells with an ellipsis (a target too long for any line)."""
    if text.cell_len <= width:
        return text
    text = text.copy()
    text.truncate(width, overflow="ellipsis")
    return text
