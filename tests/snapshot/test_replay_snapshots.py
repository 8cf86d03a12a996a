"""Snapshots of the replay (the console on a recording) at fixed frames; the frames and the recording
fixture are the replay Pilot tests'."""
from __future__ import annotations

from tierconsole.tui.replay import ReplayApp
from tests.functional.test_replay_pilot import FRAMES, STALE_AT, _isolated, recording  # noqa: F401 - fixtures


def test_replay_at_a_fixed_frame_snapshot(snap_compare, recording):
    assert snap_compare(ReplayApp(recording, at=FRAMES[STALE_AT].time), terminal_size=(120, 41))


def test_replay_narrow_snapshot(snap_compare, recording):
    assert snap_compare(ReplayApp(recording, theme="light", at=FRAMES[5].time, speed=8), terminal_size=(80, 25))
