"""Usage per quota and the binding one, from the listing, the metric answers and the utilization report."""
from __future__ import annotations

from tierconsole.core.domain import metricsplan as mp
from tierconsole.core.domain import quota_use as qu

NOVA = "amazon.nova-lite-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
FMS = [{"modelId": NOVA, "modelName": "Nova Lite", "providerName": "Amazon"},
       {"modelId": SONNET, "modelName": "Claude Sonnet 4.5", "providerName": "Anthropic"}]
ROWS = [
    {"QuotaCode": "L-AAAA0001", "QuotaName": "On-demand model inference tokens per minute for Amazon Nova Lite",
     "Value": 100_000.0},
    {"QuotaCode": "L-AAAA0002", "QuotaName": "On-demand InvokeModel requests per minute for Amazon Nova Lite",
     "Value": 100.0},
    {"QuotaCode": "L-AAAA0003", "QuotaName": "Cross-Region model inference tokens per minute for Amazon Nova Lite",
     "Value": 200_000.0},
    {"QuotaCode": "L-AAAA0004", "QuotaName": "Cross-region model inference requests per minute for Amazon Nova Lite",
     "Value": 200.0},
    {"QuotaCode": "L-AAAA0005", "QuotaName": "Model invocation max tokens per day for Amazon Nova Lite",
     "Value": 144_000_000.0},
    {"QuotaCode": "L-AAAA0006", "QuotaName": "Cross-Model Max Tokens Per Day", "Value": 1_000_000_000.0},
    {"QuotaCode": "L-AAAA0007", "QuotaName": "Global cross-region model inference tokens per minute for "
                                             "Claude Sonnet 4.5 V1", "Value": 400_000.0},
    {"QuotaCode": "L-AAAA0008", "QuotaName": "Records per batch inference job for Amazon Nova Lite", "Value": 50000.0},
    {"QuotaCode": "L-AAAA0009", "QuotaName": "On-demand model inference tokens per minute for Some Other Model",
     "Value": 1.0},
]
PROFILES = [{"inferenceProfileId": f"us.{NOVA}", "type": "SYSTEM_DEFINED"},
            {"inferenceProfileId": f"global.{SONNET}", "type": "SYSTEM_DEFINED"},
            {"inferenceProfileId": "abcdefabcdef", "type": "APPLICATION"}]
NOW = 1_800_000_030.0  # 30 s into a minute
MINUTE = 1_800_000_000.0


def listed():
    return qu.parse_quotas(ROWS, qu.model_candidates(FMS))


def test_every_name_variant_is_tied_to_its_model_and_others_are_left_out():
    got = {(s.kind.value, s.measure.value, s.model_id) for s in listed().specs}
    assert got == {("on_demand", "tokens", NOVA), ("on_demand", "requests", NOVA), ("cross_region", "tokens", NOVA),
                   ("cross_region", "requests", NOVA), ("model_daily", "tokens", NOVA),
                   ("cross_model_daily", "tokens", None), ("global", "tokens", SONNET)}
    assert listed().code(listed().specs[0]) == "L-AAAA0001"  # AWS's code, not one made up from the name


def test_profile_quota_names_override_matches_a_name_no_listing_gives():
    rows = [{"QuotaCode": "L-X", "QuotaName": "On-demand model inference tokens per minute for Lite Nova", "Value": 5.0}]
    assert qu.parse_quotas(rows, qu.model_candidates(FMS)).specs == ()
    got = qu.parse_quotas(rows, qu.model_candidates(FMS, {NOVA: ["Lite Nova"]})).specs
    assert [s.model_id for s in got] == [NOVA]


def test_each_route_reads_its_own_series_and_daily_use_comes_from_the_report_only():
    a = {("EstimatedTPMQuotaUsage", NOVA): 30_000.0, ("Invocations", NOVA): 90.0,
         ("EstimatedTPMQuotaUsage", f"us.{NOVA}"): 190_000.0, ("Invocations", f"us.{NOVA}"): 20.0}
    base = mp.quota_views(_answers(a), [NOVA], {NOVA: "Nova Lite"},
                          {NOVA: 100_000.0}, {NOVA: 100.0}, {}, NOW)
    report = {"Model invocation max tokens per day for Amazon Nova Lite": 12.0}
    rows = qu.quota_views(_answers(a), base, listed(), qu.profile_series(PROFILES), report, NOW,
                          region="us-east-1", sandbox=False)
    on_demand, cross = rows
    assert (on_demand.route, cross.route) == ("on-demand", "cross-region")
    by = {q.short: q for q in on_demand.quotas}
    # trailing minute 30 s into the minute: the minute in progress counts whole
    assert by["TPM"].used == 30_000 and by["RPM"].fraction == 0.9 and by["RPM"].source == "AWS CloudWatch"
    assert by["day"].fraction == 0.12 and by["day"].source == "AWS utilization report"
    assert by["account day"].used is None and by["account day"].source == ""  # not in the report: not 0
    assert on_demand.binding.short == "RPM" and on_demand.binding.code == "L-AAAA0002"
    assert cross.tpm_quota == 200_000 and cross.binding.kind == "cross_region" and cross.binding.measure == "tokens"
    assert cross.binding.fraction == 0.95
    assert cross.binding_text == "cross-region TPM quota of Nova Lite (us-east-1), 95% used"
    assert all(q.kind != "on_demand" for q in cross.quotas)  # never another route's pool


def test_a_profile_route_without_traffic_has_no_row_and_nothing_used_binds_nothing():
    base = mp.quota_views(_answers({}), [NOVA], {NOVA: "Nova Lite"}, {}, {}, {}, NOW)
    rows = qu.quota_views(_answers({}), base, listed(), qu.profile_series(PROFILES), None, NOW,
                          region="us-east-1", sandbox=True)
    assert [r.route for r in rows] == ["on-demand"] and rows[0].binding is None and rows[0].binding_text == ""


def test_route_queries_join_the_one_call():
    p = mp.plan([NOVA], {}, [], NOW)
    q = qu.with_route_queries(p, [f"us.{NOVA}"])
    assert len(q.queries) == len(p.queries) + 4 and {x.model_id for x in q.queries[-3:]} == {f"us.{NOVA}"}


def test_a_profile_series_already_watched_as_a_model_is_not_asked_twice():
    p = mp.plan([NOVA, f"us.{NOVA}"], {}, [], NOW)
    q = qu.with_route_queries(p, [f"us.{NOVA}", f"global.{NOVA}"])
    apis = [repr(x.to_api()["MetricStat"]) for x in q.queries]
    assert len(apis) == len(set(apis)), "a series asked twice in the one GetMetricData"
    assert {x.model_id for x in q.queries[len(p.queries):]} == {f"global.{NOVA}"}


def test_suffix_form_profile_routes_read_their_discovered_tiers_in_the_same_call():
    us = f"us.{NOVA}"
    d = mp.discover([{"Dimensions": [{"Name": "ModelId", "Value": v}]} for v in (NOVA, f"{NOVA}+flex", us, f"{us}+priority")])
    p = mp.plan([NOVA], {NOVA: d.published(NOVA)}, [], NOW, form=d.form or mp.DIMENSION, bare=d.bare)
    q = qu.with_route_queries(p, [us], tiers=d.series, form=mp.SUFFIX, bare=d.bare)
    values = {x.to_api()["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for x in q.queries}
    assert {us, f"{us}+priority"} <= values and len(q.queries) == len(p.queries) + 7
    assert q.derive.get(us) == "total"  # Standard = the bare series less the suffixed tiers, at no extra query
    # the answers: a route's Standard follows from its bare series, as a model's does
    minute = float(MINUTE)
    results = [{"Id": x.id, "Timestamps": [minute], "Values": [{(us, None): 900.0, (us, "priority"): 300.0}.get(
        (x.model_id, x.tier), 0.0) if x.metric == "EstimatedTPMQuotaUsage" else 0.0]} for x in q.queries]
    a = mp.Answers.from_results(q, results)
    assert a.get("EstimatedTPMQuotaUsage", us, "default") == {minute: 600.0}
    # over GetMetricData's limit with the tiers, the routes are asked as totals only
    capped = qu.with_route_queries(p, [us], limit=len(p.queries) + 4, tiers=d.series, form=mp.SUFFIX)
    assert [x.tier for x in capped.queries[len(p.queries):]] == [None, None, None, None]


def _answers(values):
    a = mp.Answers()
    for (metric, model), value in values.items():
        a.series[(metric, model, None)] = {MINUTE: value}
    return a


def test_a_model_is_named_as_service_quotas_names_it():
    got = qu.parse_quotas(ROWS, qu.model_candidates(FMS))
    assert got.quota_name_of(NOVA) == "Amazon Nova Lite"
    assert got.quota_name_of(SONNET) is None  # no on-demand quota listed: its ListFoundationModels name stays
    assert got.quota_name_of("meta.llama3-70b-instruct-v1:0") is None
