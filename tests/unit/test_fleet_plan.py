"""What one fleet refresh asks CloudWatch: ceil((Q+1)/500) GetMetricData per region, split deterministically,
AccountId on every query, throttles by tier in the one Insights slot of call 0."""
from __future__ import annotations

import math
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tierconsole.core.domain import fleetplan as fp
from tierconsole.core.domain.metricforms import DIMENSION, SUFFIX

NOW = 1_800_000_030.0  # 30 s into a minute
MINUTE = math.floor(NOW / 60) * 60


def fleet(accounts: int, models: int) -> dict[str, list[str]]:
    return {f"{200000000000 + a}": [f"vendor.model-{m}" for m in range(models)] for a in range(accounts)}


def test_the_bench_fleet_costs_seven_calls_a_region():
    """100 accounts × 10 models: 3,000 queries + 1 Insights = 7 calls (the design's figure)."""
    p = fp.plan_region("us-east-1", fleet(100, 10), {}, NOW, sandbox=False, form=SUFFIX)
    assert p.query_count == 3000
    assert len(p.calls) == 7 == fp.calls_needed(3000)
    assert all(len(c.api_queries()) <= 500 for c in p.calls)
    assert p.calls[0].insights is not None and all(c.insights is None for c in p.calls[1:])
    assert sum(1 for q in p.calls[0].api_queries() if "Expression" in q) == 1


def test_a_small_fleet_is_one_call_with_account_ids():
    p = fp.plan_region("eu-west-1", fleet(12, 3), {"200000000001": ["vendor.model-0"]}, NOW, sandbox=True,
                       form=SUFFIX)
    assert len(p.calls) == 1
    api = p.calls[0].api_queries()
    stats = [q for q in api if "MetricStat" in q]
    assert {q["AccountId"] for q in stats} == {f"{200000000000 + a}" for a in range(12)}
    ids = [q["Id"] for q in api]
    assert len(ids) == len(set(ids))
    reserved = [q for q in stats if q["AccountId"] == "200000000001" and q["Id"].startswith("a1_m0_r")]
    assert {q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for q in reserved} == {"vendor.model-0+reserved"}
    overflow = [q for q in stats if q["MetricStat"]["Metric"]["Namespace"] == "TierConsole/Sandbox"]
    assert len(overflow) == 2 and {q["AccountId"] for q in overflow} == {"200000000001"}
    assert p.end - p.start <= 4 * 60  # a trailing-minute window, not 16 minutes


def test_no_per_tier_form_seen_means_no_insights_query():
    p = fp.plan_region("us-east-1", fleet(2, 2), {}, NOW, sandbox=False, form=None)
    assert all(c.insights is None for c in p.calls)
    assert 'ServiceTier' in fp.insights_query(DIMENSION) and "GROUP BY AWS.AccountId" in fp.insights_query(SUFFIX)


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(1, 120), min_size=1, max_size=30), limit=st.integers(2, 500))
def test_packing_is_the_fewest_calls_within_the_limit_and_deterministic(sizes, limit):
    series = {f"{300000000000 + i}": [f"m{j}" for j in range(n)] for i, n in enumerate(sizes)}
    queries = fp.pair_queries(series, {}, sandbox=False)
    calls = fp.pack(queries, limit)
    assert len(calls[0]) <= limit - 1 and all(len(c) <= limit for c in calls)
    assert len(calls) == fp.calls_needed(len(queries), limit)
    assert [q for c in calls for q in c] == queries  # nothing lost, order kept
    again = fp.pack(fp.pair_queries(dict(reversed(list(series.items()))), {}, sandbox=False), limit)
    assert again == calls  # the same fleet (in any order) gives the same calls


def ts(minute_offset: int) -> datetime:
    return datetime.fromtimestamp(MINUTE + 60 * minute_offset, timezone.utc)


def test_answers_are_read_per_account_and_insights_split_by_tier():
    series = {"200000000001": ["m"], "200000000002": ["m"]}
    p = fp.plan_region("us-east-1", series, {}, NOW, sandbox=False, form=SUFFIX)
    ids = {(q.account_id, q.metric): q.id for q in p.calls[0].queries}
    results = [
        {"Id": ids[("200000000001", "InvocationThrottles")], "Timestamps": [ts(0)], "Values": [6.0]},
        {"Id": ids[("200000000002", "Invocations")], "StatusCode": "Forbidden", "Timestamps": [], "Values": []},
        {"Id": "insights", "Label": "200000000001 m", "Timestamps": [ts(0)], "Values": [6.0]},
        {"Id": "insights", "Label": "200000000001 m+priority", "Timestamps": [ts(0)], "Values": [4.0]},
    ]
    a = fp.read_answers(p, {0: results}, sandbox=False)
    assert a.account("200000000001").get("InvocationThrottles", "m") == {float(MINUTE): 6.0}
    assert a.forbidden == {"200000000002"}
    assert a.throttles_by_tier[("200000000001", "m")] == {"priority": {float(MINUTE): 4.0},
                                                        "default": {float(MINUTE): 2.0}}
    assert a.insights_read and not a.insights_cut


def test_a_label_that_does_not_split_is_left_out_never_guessed():
    p = fp.plan_region("us-east-1", {"200000000001": ["m"]}, {}, NOW, sandbox=False, form=DIMENSION)
    a = fp.read_answers(p, {0: [{"Id": "insights", "Label": "Other", "Timestamps": [ts(0)], "Values": [1.0]}]},
                        sandbox=False)
    assert not any(a.throttles_by_tier.values())  # the row has no tier figures: none is made up


def test_insights_at_its_limit_is_cut():
    p = fp.plan_region("us-east-1", {"200000000001": ["m"]}, {}, NOW, sandbox=False, form=DIMENSION)
    results = [{"Id": "insights", "Label": f"200000000001 m{i} priority", "Timestamps": [ts(0)], "Values": [1.0]}
               for i in range(500)]
    assert fp.read_answers(p, {0: results}, sandbox=False).insights_cut


def _thr(p, account, value):
    qid = next(q.id for q in p.calls[0].queries if q.account_id == account and q.metric == "InvocationThrottles")
    return {"Id": qid, "Timestamps": [ts(0)], "Values": [value]}


def test_standard_is_the_row_total_less_the_suffixed_tiers_when_insights_leaves_out_the_bare_series():
    """F2/F4 (newcomer-4): eu-retail's Nova Lite showed ``30.6 (P 7.9)``, its own dashboard Standard 27/min and
    Priority 7/min: the Insights answer held only ``m+priority``. The row's total is the bare series it reads
    itself, so Standard follows from it (``bare_model_id: total``) and the split adds up to the total."""
    p = fp.plan_region("eu-west-1", {"200000000008": ["m"]}, {}, NOW, sandbox=True, form=SUFFIX)
    a = fp.read_answers(p, {0: [_thr(p, "200000000008", 30.0),
                                {"Id": "insights", "Label": "200000000008 m+priority", "Timestamps": [ts(0)],
                                 "Values": [8.0]}]}, sandbox=True)
    assert a.throttles_by_tier[("200000000008", "m")] == {"priority": {float(MINUTE): 8.0},
                                                        "default": {float(MINUTE): 22.0}}
    assert a.account("200000000008").get("InvocationThrottles", "m") == {float(MINUTE): 30.0}
    assert not a.tier_notes


def test_with_bare_model_id_standard_the_bare_series_is_standard_and_the_total_is_the_sum():
    p = fp.plan_region("eu-west-1", {"200000000008": ["m"]}, {}, NOW, sandbox=False, form=SUFFIX, bare="standard")
    a = fp.read_answers(p, {0: [_thr(p, "200000000008", 22.0),
                                {"Id": "insights", "Label": "200000000008 m", "Timestamps": [ts(0)], "Values": [22.0]},
                                {"Id": "insights", "Label": "200000000008 m+priority", "Timestamps": [ts(0)],
                                 "Values": [8.0]}]}, sandbox=False)
    assert a.throttles_by_tier[("200000000008", "m")] == {"priority": {float(MINUTE): 8.0},
                                                        "default": {float(MINUTE): 22.0}}
    assert a.account("200000000008").get("InvocationThrottles", "m") == {float(MINUTE): 30.0}


def test_a_series_with_no_suffixed_throttles_is_all_standard_when_insights_answered_whole():
    p = fp.plan_region("us-east-1", {"200000000003": ["g"]}, {}, NOW, sandbox=False, form=SUFFIX)
    a = fp.read_answers(p, {0: [_thr(p, "200000000003", 12.0)]}, sandbox=False)
    assert a.throttles_by_tier[("200000000003", "g")] == {"default": {float(MINUTE): 12.0}}


def test_a_partial_split_says_so_per_row_never_guesses_standard():
    """Insights at its 500-series limit: a row whose published tier did not come back is partial (no Standard
    derived from it: the missing tier would be counted as Standard); Insights not answered: no split, a note."""
    series = {"200000000001": ["m"], "200000000002": ["m"]}
    p = fp.plan_region("us-east-1", series, {}, NOW, sandbox=False, form=SUFFIX)
    filler = [{"Id": "insights", "Label": f"3000000000{i:02d} x+priority", "Timestamps": [ts(0)], "Values": [9.0]}
              for i in range(498)]
    results = [_thr(p, "200000000001", 10.0), _thr(p, "200000000002", 5.0), *filler,
               {"Id": "insights", "Label": "200000000001 m+priority", "Timestamps": [ts(0)], "Values": [4.0]},
               {"Id": "insights", "Label": "200000000002 m+priority", "Timestamps": [ts(0)], "Values": [1.0]}]
    published = {("200000000001", "m"): frozenset({"priority"}), ("200000000002", "m"): frozenset({"priority", "flex"})}
    a = fp.read_answers(p, {0: results}, sandbox=False, published=published)
    assert a.insights_cut
    assert a.throttles_by_tier[("200000000001", "m")] == {"priority": {float(MINUTE): 4.0},
                                                        "default": {float(MINUTE): 6.0}}
    assert a.throttles_by_tier[("200000000002", "m")] == {"priority": {float(MINUTE): 1.0}}
    assert a.tier_notes == {("200000000002", "m"): "tiers: top 500 only"}
    two = fp.plan_region("us-east-1", series, {}, NOW, sandbox=False, form=SUFFIX, limit=4)
    assert len(two.calls) == 2
    b = fp.read_answers(two, {1: [{"Id": q.id, "Timestamps": [ts(0)], "Values": [3.0]} for q in two.calls[1].queries]},
                        sandbox=False)
    assert ("200000000002", "m") not in b.throttles_by_tier and b.tiers_unread == "tiers: not read (Insights)"
