"""A fleet row's throttles/min is the last complete minute, and says so (newcomer-5 F6): the same count the account's
own dashboard lists for that minute (its throttle feed: one line per minute, model and tier), never a blend of the
minute in progress with the one before that matches nothing on the dashboard."""
from __future__ import annotations

from tierconsole.core.domain import fleetrows as fr
from tierconsole.core.domain.metricsplan import Answers
from tierconsole.core.ops.fleet import row_document
from tierconsole.present.fleet import COLUMNS, format_fleet, row_detail, throttles_cell

NOVA = "amazon.nova-lite-v1:0"
MINUTE = 1_800_000_000.0
NOW = MINUTE + 20.0


def test_throttles_per_min_are_the_last_complete_minute_by_tier():
    a = Answers()
    a.series[("InvocationThrottles", NOVA, None)] = {MINUTE - 120: 40.0, MINUTE - 60: 33.0, MINUTE: 6.0}
    by_tier = {NOVA: {"default": {MINUTE - 60: 27.0, MINUTE: 5.0}, "priority": {MINUTE - 60: 6.0, MINUTE: 1.0}}}
    (row,) = fr.build_rows("200000000008", "eu-retail", "eu-west-1", [NOVA], a, NOW, listed=None, quota_note=None,
                           by_tier=by_tier)
    assert row.throttles_per_min == 33.0 and dict(row.throttles_by_tier) == {"default": 27.0, "priority": 6.0}
    assert row.throttles_minute == MINUTE - 60 and not row.tiers_note
    doc = row_document(row)
    assert doc["throttles_per_min"] == 33.0 and doc["throttles_per_min_by_tier"] == {"default": 27.0, "priority": 6.0}
    assert doc["throttles_window"] == "last complete minute" and doc["throttles_minute"] == MINUTE - 60
    assert throttles_cell(row) == "33 (S 27 P 6)"
    assert "throttles in the last complete minute (07:59 UTC): 33 (S 27 P 6)" in row_detail(row), row_detail(row)
    snap = fr.FleetSnapshot(NOW, "fleet", "100000000000", ("eu-west-1",), 0.8, (row,))
    assert "throttles/min: the last complete minute" in format_fleet(snap)
    assert "thr/min" in " ".join(COLUMNS)
