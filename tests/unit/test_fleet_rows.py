"""The fleet's rows: binding quota use per account × region × series, throttles by tier, reservations,
stale marks; worst first (a total order), filter, group, and the pulse line."""
from __future__ import annotations

import math
import random

from tierconsole.core.domain import fleetrows as fr
from tierconsole.core.domain.catalog import ReservationSpec
from tierconsole.core.domain.metricsplan import Answers
from tierconsole.core.domain.quota_use import model_candidates, parse_quotas
from tierconsole.core.ops.fleet import row_document
from tierconsole.present.fleet import throttles_cell

NOW = 1_800_000_030.0
MINUTE = float(math.floor(NOW / 60) * 60)
PREV = MINUTE - 60  # the last complete minute
NOVA = "amazon.nova-lite-v1:0"
LISTED = parse_quotas(
    [{"QuotaName": "On-demand model inference tokens per minute for Amazon Nova Lite", "QuotaCode": "L-1",
      "Value": 1000.0},
     {"QuotaName": "On-demand model inference requests per minute for Amazon Nova Lite", "QuotaCode": "L-2",
      "Value": 10.0},
     {"QuotaName": "Cross-region model inference tokens per minute for Amazon Nova Lite", "QuotaCode": "L-3",
      "Value": 2000.0}],
    model_candidates([{"modelId": NOVA, "modelName": "Nova Lite", "providerName": "Amazon"}]))


def answers(**series: dict[tuple[str, str], float]) -> Answers:
    a = Answers()
    for metric, per in series.items():
        for s, v in per.items():
            a.series[(metric, s, None)] = {MINUTE: v}  # all in the minute in progress
    return a


def test_the_binding_quota_is_the_route_s_fullest():
    a = answers(EstimatedTPMQuotaUsage={NOVA: 500.0, f"us.{NOVA}": 1900.0}, Invocations={NOVA: 9.0})
    rows = fr.build_rows("200000000001", "payments", "us-east-1", [NOVA, f"us.{NOVA}"], a, NOW, listed=LISTED,
                         quota_note=None)
    on_demand, cross = rows  # sorted: "amazon…" before "us.amazon…"
    assert on_demand.route == "on_demand" and on_demand.binding.label == "on-demand RPM"
    assert on_demand.use == 0.9
    assert cross.route == "cross_region" and cross.model_id == NOVA and cross.binding.code == "L-3"
    assert cross.use == 0.95


def test_unknown_quota_is_none_with_a_note_never_zero():
    a = answers(EstimatedTPMQuotaUsage={NOVA: 500.0})
    (row,) = fr.build_rows("200000000001", "", "us-east-1", [NOVA], a, NOW, listed=None,
                           quota_note="unknown — no access configured")
    assert row.use is None and row.binding is None and row.quota_note == "unknown — no access configured"
    assert row.tpm_used == 500.0
    (never,) = fr.build_rows("200000000001", "", "us-east-1", [NOVA], None, NOW, listed=LISTED, quota_note=None,
                             stale="access denied (GetMetricData)")
    assert never.tpm_used is None and never.throttles_per_min is None and never.stale


def test_reservation_use_and_sandbox_overflow():
    a = answers(EstimatedTPMQuotaUsage={NOVA: 10.0})
    a.series[("InputTokenCount", NOVA, "reserved")] = {MINUTE: 90_000.0}
    a.series[("OutputTokenCount", NOVA, "reserved")] = {MINUTE: 1_000.0}
    a.series[("ReservedOverflowInputTokenCount", NOVA, None)] = {MINUTE: 500.0}
    a.sandbox = True
    res = [ReservationSpec("r1", NOVA, 100_000, 10_000)]
    (row,) = fr.build_rows("200000000001", "", "us-east-1", [NOVA], a, NOW, listed=LISTED, quota_note=None,
                           reservations=res, sandbox=True)
    assert row.reserved.input_fraction == 0.9 and row.reserved.overflow_tpm == 500.0
    assert row.reserved.overflow_source == "sandbox" and row.source == "sandbox"
    assert row.use == 0.9


def test_throttles_by_tier_come_from_insights_or_are_left_unsplit():
    a = answers()
    a.series[("InvocationThrottles", NOVA, None)] = {PREV: 6.0}  # throttles/min: the last complete minute
    (split,) = fr.build_rows("2" * 12, "", "r", [NOVA], a, NOW, listed=LISTED, quota_note=None,
                             by_tier={NOVA: {"priority": {PREV: 4.0}, "default": {PREV: 2.0}}})
    assert split.throttles_per_min == 6.0 and split.throttles_by_tier == {"priority": 4.0, "default": 2.0}
    assert not split.tiers_note
    (cut,) = fr.build_rows("2" * 12, "", "r", [NOVA], a, NOW, listed=LISTED, quota_note=None,
                           by_tier={NOVA: {"priority": {PREV: 4.0}}}, tier_notes={NOVA: "tiers: top 500 only"})
    assert cut.throttles_by_tier == {"priority": 4.0} and cut.tiers_note == "tiers: top 500 only"
    assert throttles_cell(cut) == "6 (P 4; tiers: top 500 only)"
    (unread,) = fr.build_rows("2" * 12, "", "r", [NOVA], a, NOW, listed=LISTED, quota_note=None, by_tier={},
                              tiers_unread="tiers: not read (Insights)")
    assert unread.throttles_by_tier is None and throttles_cell(unread) == "6 (tiers: not read (Insights))"


def test_a_split_that_does_not_add_up_to_the_total_says_so():
    """F2 (newcomer-4): ``22.0 (P 5.0)`` with nothing said. A split short of its total is marked partial."""
    a = answers()
    a.series[("InvocationThrottles", NOVA, None)] = {PREV: 30.0}
    (short,) = fr.build_rows("2" * 12, "", "r", [NOVA], a, NOW, listed=LISTED, quota_note=None,
                             by_tier={NOVA: {"priority": {PREV: 8.0}}})
    assert short.tiers_note == "tiers: partial" and throttles_cell(short) == "30 (P 8; tiers: partial)"
    (whole,) = fr.build_rows("2" * 12, "", "r", [NOVA], a, NOW, listed=LISTED, quota_note=None,
                             by_tier={NOVA: {"priority": {PREV: 8.0}, "default": {PREV: 22.0}}})
    assert not whole.tiers_note and throttles_cell(whole) == "30 (S 22 P 8)"
    assert row_document(whole)["throttles_per_min_by_tier"] == {"priority": 8.0, "default": 22.0}


def row(account="200000000001", name="", region="us-east-1", series=NOVA, use=None, thr=0.0, stale=None):
    binding = None if use is None else fr.BindingQuota("q", "L-1", "on_demand", "on-demand TPM", 100.0, use * 100, use)
    return fr.FleetRow(account, name, region, series, series, "on_demand", 1.0, 1.0, thr, binding=binding,
                       stale=stale)


def test_worst_first_bands_and_a_total_order():
    rows = [row(account="200000000005", use=0.1), row(account="200000000004", use=0.85),
            row(account="200000000003", thr=2.0, use=0.2), row(account="200000000002", stale="timed out", use=None),
            row(account="200000000001", use=0.95), row(account="200000000006", thr=5.0, use=0.2)]
    order = [r.account_id[-1] for r in fr.worst_first(rows, 0.8)]
    assert order == ["6", "3", "1", "4", "2", "5"]
    for _ in range(20):  # equal data always draws the same
        shuffled = rows[:]
        random.shuffle(shuffled)
        assert fr.worst_first(shuffled, 0.8) == fr.worst_first(rows, 0.8)


def test_filter_terms_are_anded_and_bang_excludes():
    rows = [row(name="payments-prod"), row(account="200000000002", name="ml-dev", region="eu-west-1"),
            row(account="200000000003", name="payments-dev", region="eu-west-1", thr=1.0)]
    assert [r.account_name for r in fr.filter_rows(rows, "payments")] == ["payments-prod", "payments-dev"]
    assert [r.account_name for r in fr.filter_rows(rows, "EU-WEST !ml")] == ["payments-dev"]
    assert [r.account_name for r in fr.filter_rows(rows, "throttling")] == ["payments-dev"]
    assert fr.filter_rows(rows, "") == rows


def test_group_by_account_region_model_worst_group_first():
    rows = [row(account="200000000001", name="a", region="us-east-1", use=0.1),
            row(account="200000000002", name="b", region="eu-west-1", use=0.9),
            row(account="200000000001", name="a", region="eu-west-1", use=0.5)]
    rows = fr.worst_first(rows, 0.8)  # as a snapshot holds them
    assert [k for k, _ in fr.group(rows, "account")] == ["b (200000000002)", "a (200000000001)"]
    assert [k for k, _ in fr.group(rows, "region")] == ["eu-west-1", "us-east-1"]
    assert [len(v) for k, v in fr.group(rows, "model")] == [3]
    assert fr.group(rows, "none") == [("", rows)]


def test_pulse_counts_accounts_and_shortens_by_width():
    rows = [row(account="200000000001", use=0.9), row(account="200000000001", region="eu-west-1", use=0.95),
            row(account="200000000002", thr=3.0), row(account="200000000003", stale="access denied")]
    p = fr.pulse(rows, 0.8, accounts=["200000000004"])
    assert p.text() == "1 account over 80% · 1 throttling · 1 stale · 4 accounts in 2 regions"
    assert p.text(width=40) == "1 account over 80% · 1 throttling"
    assert len(p.text(width=10)) <= 10


def test_an_idle_series_with_known_quotas_is_0_percent_not_unknown():
    a = answers(EstimatedTPMQuotaUsage={NOVA: 0.0}, Invocations={NOVA: 0.0})
    (row,) = fr.build_rows("200000000001", "", "us-east-1", [NOVA], a, NOW, listed=LISTED, quota_note=None)
    assert row.use == 0.0 and row.binding is not None and fr.band(row, 0.8) == 3
