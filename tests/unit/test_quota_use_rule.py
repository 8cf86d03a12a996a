"""One rule for a quota's TPM use, on the dashboard and across the fleet (newcomer-5 F3).

The figure shown is the blended trailing-minute estimate (``~``); "over" is judged on that estimate or on the
highest measured minute (the minute in progress so far, or the last complete one) when that is higher, and ``✖``
marks a measured minute at the quota. Right after a minute boundary — or while CloudWatch's minute in progress is
still filling — the blend reads far under a quota the account is pinned at: that must not read as under 80%."""
from __future__ import annotations

import math

from tierconsole.core.domain import fleetrows as fr
from tierconsole.core.domain.alerts import quota_fractions, quotas_over, tpm_judged, tpm_mark
from tierconsole.core.domain.metricsplan import Answers, quota_views
from tierconsole.core.domain.quota_use import model_candidates, parse_quotas
from tierconsole.core.ops.fleet import row_document, verdict
from tierconsole.present.fleet import row_cells

NOVA = "amazon.nova-lite-v1:0"
MINUTE = 1_800_000_000.0  # a minute boundary
NOW = MINUTE + 30.0  # half way into the minute in progress
assert math.floor(MINUTE / 60) * 60 == MINUTE
QUOTA = 60_000.0
LISTED = parse_quotas(
    [{"QuotaName": "On-demand model inference tokens per minute for Amazon Nova Lite", "QuotaCode": "L-1",
      "Value": QUOTA},
     {"QuotaName": "On-demand model inference requests per minute for Amazon Nova Lite", "QuotaCode": "L-2",
      "Value": 10_000.0}],
    model_candidates([{"modelId": NOVA, "modelName": "Nova Lite", "providerName": "Amazon"}]))


def pinned() -> Answers:
    """The last complete minute at the quota; the minute in progress has only 6,000 tokens so far."""
    a = Answers()
    a.series[("EstimatedTPMQuotaUsage", NOVA, None)] = {MINUTE - 60: QUOTA, MINUTE: 6_000.0}
    a.series[("Invocations", NOVA, None)] = {MINUTE - 60: 100.0, MINUTE: 10.0}
    return a


def test_the_shared_rule_judges_the_measured_minute_when_the_blend_reads_low():
    assert tpm_judged(0.6, 1.0) == 1.0  # blend 36,000/60,000; the last complete minute at the quota
    assert tpm_judged(1.17, 0.95) == 1.17  # an early spike blended in: the estimate is the higher
    assert tpm_judged(0.5, None) == 0.5 and tpm_judged(None, None) is None
    # the mark: the estimate shown as such, crossed because a measured minute reached the quota
    assert tpm_mark(0.6, estimated=True, measured_over=True, warn=0.8, peak=1.0) == ("crit", "✖", "60%")
    assert tpm_mark(0.6, estimated=True, measured_over=False, warn=0.8, peak=0.9)[:2] == ("warn", "▲")


def test_the_dashboard_counts_an_account_pinned_at_its_quota_as_over_after_a_minute_boundary():
    (view,) = quota_views(pinned(), [NOVA], {}, {NOVA: QUOTA}, {NOVA: 10_000.0}, {}, NOW)
    assert view.tpm_estimated and view.tpm_measured_over
    assert round(view.tpm_fraction, 2) == 0.6  # the blend: 6,000 + 60,000 × ½
    assert dict(quota_fractions(view))["TPM"] == 1.0
    assert quotas_over([view], 0.8) == {NOVA}


def test_a_fleet_row_uses_the_same_rule_and_carries_the_same_marks():
    (view,) = quota_views(pinned(), [NOVA], {}, {NOVA: QUOTA}, {NOVA: 10_000.0}, {}, NOW)
    (row,) = fr.build_rows("200000000008", "eu-retail", "eu-west-1", [NOVA], pinned(), NOW, listed=LISTED,
                           quota_note=None)
    assert row.tpm_estimated is True and row.tpm_measured_over is True
    assert row.use == dict(quota_fractions(view))["TPM"] == 1.0  # not 60%: the account is at its quota
    assert fr.pulse([row], 0.8).over_accounts == ("200000000008",)
    doc = row_document(row)
    assert doc["tpm_estimated"] is True and doc["tpm_measured_over"] is True
    assert doc["tpm_fraction"] == round(view.tpm_fraction, 4) and doc["tpm_peak_minute"] == QUOTA
    # on screen and in the text: the dashboard's figure with the dashboard's marks
    _, glyph, pct = tpm_mark(view.tpm_fraction, estimated=True, measured_over=True, warn=0.8,
                             peak=view.tpm_peak_fraction)
    assert row_cells(row)[3] == f"{glyph}{pct}" == "✖60%"
    snap = fr.FleetSnapshot(NOW, "fleet", "100000000000", ("eu-west-1",), 0.8, (row,))
    assert verdict(snap, 0.8).code == 3
