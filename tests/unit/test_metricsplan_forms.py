"""Per-tier metrics in either form AWS accounts may show: discovered from one ListMetrics, read in one plan.

The suffix form (``ModelId=<series>+priority``, AWS's documented naming) and the dimension form
(``{ModelId, ServiceTier}``) must give the panes the same figures for the same traffic.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tierconsole.core.domain import metricsplan as mp

NOW = 1_800_000_030.0  # 30 s into a minute
MIN = 1_800_000_000.0
NOVA = "amazon.nova-lite-v1:0"
US_NOVA = "us.amazon.nova-lite-v1:0"


def listed(*values, tier_dim=None) -> list[dict]:
    out = []
    for v in values:
        dims = [{"Name": "ModelId", "Value": v}]
        if tier_dim:
            dims.append({"Name": "ServiceTier", "Value": tier_dim})
        out.append({"Namespace": "AWS/Bedrock", "MetricName": "Invocations", "Dimensions": dims})
    return out


def test_discover_reads_the_documented_suffix_form_per_series():
    d = mp.discover(listed(NOVA, NOVA + "+priority", NOVA + "+flex", US_NOVA, US_NOVA + "+reserved",
                           "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456+flex"))
    assert (d.form, d.seen) == ("suffix", True)
    assert d.series[NOVA] == {"priority", "flex"}
    assert d.series[US_NOVA] == {"reserved"}
    assert d.series["arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456"] == {"flex"}
    assert d.published(NOVA) == {"priority", "flex"}
    assert d.tiers(NOVA) == {"priority", "flex", "default"}  # Standard follows from the bare series


def test_discover_reads_the_dimension_form():
    d = mp.discover(listed(NOVA) + listed(NOVA, tier_dim="flex") + listed(NOVA, tier_dim="default"))
    assert (d.form, d.seen) == ("dimension", True)
    assert d.series[NOVA] == {"flex", "default"}
    assert d.tiers(NOVA) == {"flex", "default"}


def test_a_plus_in_a_value_that_is_no_tier_is_not_a_suffix():
    d = mp.discover(listed("vendor.model+v2", NOVA))
    assert d.form is None and not d.seen
    assert d.series == {"vendor.model+v2": frozenset(), NOVA: frozenset()}
    assert mp.split_series("m+flex") == ("m", "flex") and mp.split_series("+flex") == ("+flex", None)


@pytest.mark.parametrize("setting, expect", [
    ("auto", (None, frozenset(), frozenset())),
    ("suffix", ("suffix", {"priority", "flex", "reserved"}, {"priority", "flex", "reserved", "default"})),
    ("dimension", ("dimension", {"priority", "flex", "default", "reserved"}, {"priority", "flex", "default", "reserved"})),
])
def test_nothing_seen_falls_back_to_the_profile_setting(setting, expect):
    d = mp.discover(listed(NOVA), setting)
    assert (d.form, d.published(NOVA, reserved=True), d.tiers(NOVA, reserved=True)) == expect
    assert "reserved" not in d.published(NOVA, reserved=False)


def test_a_seen_form_asks_only_the_tiers_seen():
    d = mp.discover(listed(NOVA, NOVA + "+flex", "other.model"), "dimension")
    assert d.form == "suffix"
    assert d.published("other.model", reserved=True) == frozenset()  # no per-tier series asked ...
    assert d.tiers("other.model") == {"default"}  # ... its bare series is all Standard in a suffix account
    dim = mp.discover(listed(NOVA, "other.model") + listed(NOVA, tier_dim="flex"))
    assert dim.tiers("other.model") == frozenset(), "dimension form: no ServiceTier series, totals only"
    p = mp.plan(["other.model"], {}, [], NOW, form="suffix")
    a = mp.Answers.from_results(p, _results(p, {("Invocations", None): 4.0}))
    assert a.get("Invocations", "other.model", "default") == {MIN: 4.0}


def test_suffix_plan_names_series_as_aws_documents_them_in_one_call():
    p = mp.plan([NOVA], {NOVA: {"priority", "flex", "reserved"}}, [NOVA], NOW, form="suffix")
    dims = {(q["MetricStat"]["Metric"]["MetricName"],
             tuple((d["Name"], d["Value"]) for d in q["MetricStat"]["Metric"]["Dimensions"])) for q in p.api_queries()}
    assert ("Invocations", (("ModelId", NOVA + "+flex"),)) in dims
    assert ("InputTokenCount", (("ModelId", NOVA + "+reserved"),)) in dims
    assert ("Invocations", (("ModelId", NOVA),)) in dims
    assert not any(name == "ServiceTier" for _, ds in dims for name, _ in ds)
    assert not any(v.endswith("+default") for _, ds in dims for _, v in ds)
    assert p.derive == {NOVA: "total"}
    # the dimension form of the same tiers: today's queries, unchanged
    q = mp.plan([NOVA], {NOVA: {"flex"}}, [], NOW).api_queries()
    assert {"Name": "ServiceTier", "Value": "flex"} in q[-1]["MetricStat"]["Metric"]["Dimensions"]


def _results(p: mp.Plan, values: dict) -> list[dict]:
    ts = [datetime.fromtimestamp(MIN, timezone.utc)]
    by = {(q.metric, q.tier): q.id for q in p.queries}
    return [{"Id": by[k], "Timestamps": ts, "Values": [v]} for k, v in values.items() if k in by]


# one minute of traffic: Priority 100 tokens / 1 call, Flex 50 / 2, Standard 300 / 3, reserved 1,000 / 4
# (served by the reservation: in the bare Invocations, not in the bare EstimatedTPMQuotaUsage); throttles 2 Standard
TOTAL = {("EstimatedTPMQuotaUsage", None): 450.0, ("Invocations", None): 10.0, ("InvocationThrottles", None): 2.0}
TIERS = {("EstimatedTPMQuotaUsage", "priority"): 100.0, ("EstimatedTPMQuotaUsage", "flex"): 50.0,
         ("EstimatedTPMQuotaUsage", "reserved"): 1000.0, ("Invocations", "priority"): 1.0,
         ("Invocations", "flex"): 2.0, ("Invocations", "reserved"): 4.0}
STANDARD = {("EstimatedTPMQuotaUsage", "default"): 300.0, ("Invocations", "default"): 3.0,
            ("InvocationThrottles", "default"): 2.0}


@pytest.mark.parametrize("form, bare", [("dimension", "total"), ("suffix", "total"), ("suffix", "standard")])
def test_both_forms_give_the_panes_the_same_figures(form, bare):
    published = {"priority", "flex", "reserved"} | ({"default"} if form == "dimension" else set())
    p = mp.plan([NOVA], {NOVA: published}, [NOVA], NOW, form=form, bare=bare)
    values = {**TOTAL, **TIERS}
    if form == "dimension":
        values.update(STANDARD)
    if bare == "standard":  # the bare series is Standard only
        values.update({(m, None): v for (m, _), v in STANDARD.items()})
    a = mp.Answers.from_results(p, _results(p, values))
    tiers = {NOVA: published | {"default"}}
    q = mp.quota_views(a, [NOVA], {}, {NOVA: 1000.0}, {NOVA: 100.0}, tiers, MIN)[0]
    assert q.tpm_by_tier == {"priority": 100.0, "default": 300.0, "flex": 50.0}
    assert q.rpm_used == 6.0
    assert mp.throttle_counts(a, [NOVA], tiers, MIN, 5)[NOVA] == {"default": 2, "flex": 0, "priority": 0, "reserved": 0}
    assert [(e.tier, e.count) for e in mp.throttle_events(a, [NOVA], tiers)] == [("default", 2)]
    assert a.get("Invocations", NOVA)[MIN] == 10.0  # the model total, whatever the bare series holds
    assert a.get("EstimatedTPMQuotaUsage", NOVA)[MIN] == 450.0


def test_a_derived_standard_never_goes_below_zero():
    p = mp.plan([NOVA], {NOVA: {"flex"}}, [], NOW, form="suffix")
    a = mp.Answers.from_results(p, _results(p, {("Invocations", None): 1.0, ("Invocations", "flex"): 3.0}))
    assert a.get("Invocations", NOVA, "default") == {}


def test_profile_metrics_settings_and_their_errors():
    from tierconsole.core.domain.catalog import ConfigError
    from tierconsole.core.domain.profile import parse_profile

    aws = parse_profile({"name": "a"}, default_name="a")
    assert (aws.metrics.tier_form, aws.metrics.bare_model_id) == ("auto", "total")
    own = parse_profile({"sandbox": {"metrics": {"tier_form": "dimension"}}}, default_name="s")
    assert own.metrics.tier_form == "dimension", "a sandbox profile reads what its sandbox publishes"
    assert parse_profile({"sandbox": {}}, default_name="s").metrics.tier_form == "suffix"
    named = parse_profile({"metrics": {"tier_form": "auto"}, "sandbox": {"metrics": {"bare_model_id": "standard"}}},
                          default_name="s")
    assert (named.metrics.tier_form, named.metrics.bare_model_id) == ("auto", "total")
    with pytest.raises(ConfigError, match=r"metrics\.tier_form.*auto, suffix, dimension.*'ServiceTier'"):
        parse_profile({"metrics": {"tier_form": "ServiceTier"}}, default_name="a")
    with pytest.raises(ConfigError, match=r"metrics\.reserved_suffix: unknown key"):
        parse_profile({"metrics": {"reserved_suffix": True}}, default_name="a")  # a sandbox setting, not a console one
