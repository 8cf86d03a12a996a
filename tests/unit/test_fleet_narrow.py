"""The fleet at 80 columns (newcomer-5 F8): the model and account columns are shortened before throttles/min and the
state are given up, and the header keeps the endpoint (shortened) and the refresh time, as the dashboard's does."""
from __future__ import annotations

from dataclasses import replace

from tierconsole.core.domain.fleetsample import sample_fleet
from tierconsole.present.fleet import COLUMNS, layout, line, mark, row_cells
from tierconsole.tui.screens.fleet import fleet_title


def test_at_80_columns_every_row_keeps_its_throttles_and_state():
    s = sample_fleet()
    widths = layout(80)
    head = line(COLUMNS, widths=widths)
    assert len(head) <= 80 and "thr/min" in head and "state" in head, head
    stale = next(r for r in s.rows if r.stale)
    hot = next(r for r in s.rows if (r.throttles_per_min or 0) > 0)
    shown = {}  # by account id
    for r in (stale, hot):
        shown[r.account_id] = text = line(row_cells(r, widths), mark(r, s.threshold), widths)[:80]  # the screen crops at 80
        assert r.account_id in text and r.region in text, text  # the id is never cut (what an operator acts on)
    assert "4 (S 3 P 1)" in shown[hot.account_id], shown[hot.account_id]
    assert "STALE: a" in shown[stale.account_id], shown[stale.account_id]


def test_the_wide_layout_is_unchanged_where_it_fits_and_the_text_output_has_no_limit():
    assert layout(None) == layout(200)
    assert line(COLUMNS).startswith("  account                  region")


def test_the_header_keeps_the_endpoint_and_the_refresh_time_at_80_columns():
    s = sample_fleet()
    title = fleet_title(s, 80)
    assert len(title) <= 80 and "127.0.0.1:4599" in title and "00:00:30" in title and s.profile in title, title
    long = replace(s, endpoint="https://bedrock-runtime.eu-west-1.amazonaws.com", profile="payments-platform-fleet")
    title = fleet_title(long, 80)
    assert len(title) <= 80 and "00:00:30" in title and "…" in title and "amazonaws.com" in title, title
    assert "GetMetricData" in fleet_title(s, 160)
