"""Replay: the console on a recording draws exactly what the live console drew; its keys move the frame.

The replay screen is the live dashboard plus one status line above the footer, so a replay at
W×(H+1) lays the panes out exactly as the live dashboard at W×H: every line from the header to
the bottom of the panes must be the same, character for character and style for style.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest
from textual.widgets import Input, Label

from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard, sample_throttle_events
from tierconsole.core.domain.views import PaneStatus
from tierconsole.recording.recorder import Recorder
from tierconsole.recording.reader import Recording
from tierconsole.recording.replay import MAX_WAIT_S, SPEEDS, ReplaySource, parse_jump
from tierconsole.tui.replay import JumpScreen, ReplayApp, ReplayBar, ReplayScreen
from tests.functional.test_dashboard_pilot import text_of

STEP_S = 5.0
N = 40
STALE_AT = 17


def replay_frame(i: int):
    """Frame i of a busy afternoon: time moves 5 s a frame, figures move, events arrive, and frame
    17 has a stale quota pane."""
    now = SAMPLE_NOW + STEP_S * i
    data = sample_dashboard(now=now, seed=7 + i % 3)
    data = dataclasses.replace(
        data, throttle_events=sample_throttle_events(40 + i, now, seed=7),
        quotas=tuple(dataclasses.replace(q, rpm_used=q.rpm_used + 3 * i) for q in data.quotas))
    if i == STALE_AT:
        reason = "AccessDeniedException: not authorized to perform servicequotas:ListServiceQuotas"
        data = dataclasses.replace(data, status={**data.status, "quota": PaneStatus(False, now - 125, reason)})
    return data


FRAMES = [replay_frame(i) for i in range(N)]


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "sample.rec"
    with Recorder(path, "prod-ops", keyframe_every=8) as rec:
        for data in FRAMES:
            rec.write(data)
    return path


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def lines(app) -> list[list[tuple[str, object]]]:
    """Every screen line as (text, style) runs."""
    return [[(seg.text, seg.style) for seg in strip.simplify()] for strip in app.screen._compositor.render_strips()]


async def live_lines(data, size):
    app = TierConsoleApp(data=data)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return lines(app)


# --- exact replay -----------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["grid", "narrow"])
@pytest.mark.parametrize("position", [0, STALE_AT, N - 1])
async def test_replay_draws_the_panes_exactly_as_live(recording, size, position):
    width, height = size
    expected = await live_lines(FRAMES[position], size)
    app = ReplayApp(recording, at=FRAMES[position].time)
    async with app.run_test(size=(width, height + 1)) as pilot:
        await pilot.pause()
        assert app.replay.position == position
        assert app.dashboard.shown == FRAMES[position]
        got = lines(app)
        bar = text_of(app.screen.query_one(ReplayBar))
    assert got[: height - 1] == expected[: height - 1]  # header, tabs and panes; not the footer
    assert bar.startswith(" REPLAY ") and f"frame {position + 1}/{N}" in bar
    if position == STALE_AT:  # the stale pane's banner (grid), or its tab's mark (one pane at a time)
        assert any(("STALE" if width >= 120 else "⚠") in "".join(t for t, _ in line) for line in got)


async def test_header_ages_come_from_the_frame_not_the_clock(recording):
    app = ReplayApp(recording, at=FRAMES[STALE_AT].time)
    async with app.run_test(size=(120, 41)) as pilot:
        await pilot.pause()
        header = "".join(t for t, _ in lines(app)[0])
        assert "14:31:25 UTC" in header and "age 2m05s" in header


# --- keys ---------------------------------------------------------------------------------------
async def test_step_speed_and_the_footer(recording):
    app = ReplayApp(recording)
    async with app.run_test(size=(120, 41)) as pilot:
        await pilot.pause()
        await pilot.press("comma")  # already at the first frame
        assert app.replay.position == 0
        await pilot.press("full_stop", "full_stop", "full_stop")
        assert app.replay.position == 3 and app.dashboard.shown == FRAMES[3]
        await pilot.press("comma")
        assert app.replay.position == 2 and app.dashboard.shown == FRAMES[2]
        await pilot.press("plus", "plus")
        assert app.replay.speed == 4.0
        await pilot.press(*["minus"] * 8)
        assert app.replay.speed == SPEEDS[0] == 0.25
        await pilot.press(*["plus"] * 12)
        assert app.replay.speed == SPEEDS[-1] == 64.0
        await pilot.pause()
        bar = text_of(app.screen.query_one(ReplayBar))
        assert "‖ 64×" in bar and "2026-03-02 14:30:10 UTC" in bar and "frame 3/40" in bar
        footer = "".join(t for t, _ in lines(app)[-1])
        for key in ("space Play/Pause", ", . Step", "- + Speed", "g Jump", "q Quit"):
            assert key in footer
        for live_only in ("Refresh", "Prompt", "Cancel job", "Profile"):
            assert live_only not in footer


async def test_live_only_actions_are_refused(recording):
    app = ReplayApp(recording)
    async with app.run_test(size=(120, 41)) as pilot:
        await pilot.pause()
        for key in ("r", "t", "b", "x", "a"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ReplayScreen), key
        assert app.replay.position == 0 and app.dashboard.shown == FRAMES[0]


async def test_jump_to_a_time(recording):
    app = ReplayApp(recording)
    async with app.run_test(size=(120, 41)) as pilot:
        await pilot.pause()

        async def jump(text: str) -> None:
            await pilot.press("g")
            await pilot.pause()
            assert isinstance(app.screen, JumpScreen)
            app.screen.query_one(Input).value = text
            await pilot.press("enter")
            await pilot.pause()

        await jump("14:31:02")  # 62 s after the first frame: frame 12 (60 s)
        assert app.replay.position == 12 and app.dashboard.shown == FRAMES[12]
        await jump("-30s")
        assert app.replay.position == 6
        await jump("+1m")
        assert app.replay.position == 18
        await jump("end")
        assert app.replay.position == N - 1
        await jump("2026-03-02T14:30:20Z")
        assert app.replay.position == 4
        await jump("2026-03-02 15:00")  # after the end: the last frame, with a notice
        assert app.replay.position == N - 1
        await pilot.press("g")
        await pilot.pause()
        app.screen.query_one(Input).value = "tea time"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JumpScreen)  # stays open and says why
        assert "not a time" in str(app.screen.query_one("#jump-error", Label).render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReplayScreen) and app.replay.position == N - 1


async def test_play_moves_through_the_frames_and_pause_stops(recording):
    app = ReplayApp(recording, speed=64)  # 5 s frames at 64x: one every 78 ms
    async with app.run_test(size=(120, 41)) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause(0.8)
        await pilot.press("space")
        moved = app.replay.position
        assert not app.replay.playing and 3 <= moved < N - 1
        assert app.dashboard.shown == FRAMES[moved]
        await pilot.pause(0.4)
        assert app.replay.position == moved


async def test_a_plain_console_can_show_a_replay_source(recording):
    source = ReplaySource(recording, speed=64)
    app = TierConsoleApp(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(40):
            await pilot.pause(0.1)
            if app.dashboard.shown is not None and source.position >= 3:
                break
        assert source.position >= 3 and app.dashboard.shown == FRAMES[source.position]
        assert "prod-ops" in "".join(t for t, _ in lines(app)[0])
        await app.close_source()


# --- playback clock -----------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_playback_follows_recorded_time_at_speed(recording):
    clock = FakeClock()
    src = ReplaySource(recording, clock=clock, speed=2)
    src.play()
    assert src.next_delay() == pytest.approx(STEP_S / 2)
    clock.now += 2.4
    assert not src.tick() and src.position == 0
    clock.now += 0.1
    assert src.tick() and src.position == 1
    clock.now += 25.0  # 50 recorded seconds: frames are skipped, not queued
    assert src.tick() and src.position == 11
    src.set_speed(64)
    clock.now += 60
    assert src.tick() and src.position == N - 1 and not src.playing and src.at_end
    src.toggle()  # play again from the start
    assert src.playing and src.position == 0


def test_gaps_in_a_recording_are_skipped_after_a_short_wait(tmp_path):
    path = tmp_path / "gap.rec"
    with Recorder(path) as rec:
        for t in (0.0, 1.0, 3600.0, 3601.0):
            rec.write(dataclasses.replace(FRAMES[0], time=SAMPLE_NOW + t))
    clock = FakeClock()
    src = ReplaySource(Recording(path), clock=clock)
    src.play()
    clock.now += 1.0
    assert src.tick() and src.position == 1
    assert src.next_delay() == pytest.approx(MAX_WAIT_S)
    clock.now += MAX_WAIT_S
    assert src.tick() and src.position == 2  # the hour's gap took two seconds
    clock.now += 1.0
    assert src.tick() and src.position == 3


def test_seek_clamps_to_the_recording(recording):
    src = ReplaySource(recording)
    assert src.seek_time(SAMPLE_NOW - 3600) == 0
    assert src.seek_time(SAMPLE_NOW + 10 ** 6) == N - 1
    assert src.seek(-5) == 0 and src.step(1000) == N - 1
    assert src.set_speed(3.5) == 4.0 and src.set_speed(1000) == 64.0


# --- parsing --------------------------------------------------------------------------------------
START = datetime(2026, 3, 2, 23, 50, tzinfo=timezone.utc).timestamp()
END = START + 3600  # crosses midnight


@pytest.mark.parametrize("text, expected", [
    ("start", START), ("END", END),
    ("-5m", START + 1800 - 300), ("+30s", START + 1800 + 30), ("+1h30m", START + 1800 + 5400),
    ("23:55", START + 300), ("00:10:30", START + 1230),  # the day after: the only 00:10:30 in the recording
    ("2026-03-03T00:00:00", START + 600), ("2026-03-03T01:00:00+01:00", START + 600),
    ("2026-03-02 23:51:00Z", START + 60),
])
def test_jump_parsing(text, expected):
    assert parse_jump(text, current=START + 1800, start=START, end=END) == pytest.approx(expected)


@pytest.mark.parametrize("text, message", [
    ("", "type a time"), ("soon", "not a time"), ("25:00", "not a time of day"), ("-5 parsecs", "not a relative"),
    ("12:61", "not a time of day"),
])
def test_jump_parsing_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_jump(text, current=START, start=START, end=END)
