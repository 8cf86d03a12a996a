"""The quota-increase request's figures on a hand-made history (pure)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tierconsole.core.domain.planning import FIELDS, empty_history
from tierconsole.core.domain.quotarequest import (
    TooLittleHistory, build_request, demand, documented_burndown, significant,
)
from tierconsole.core.domain.quotas import MINUTE_S, Measure, QuotaKind, QuotaSpec

NOVA = "amazon.nova-lite-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def frame(minutes=60, tiers=("priority", "default", "flex", "reserved")):
    f = empty_history("2026-11-01T00:00", minutes, tiers)
    return f


def test_burndown_is_the_documented_rate():
    assert documented_burndown(SONNET) == 5.0
    assert documented_burndown("us." + SONNET) == 5.0
    assert documented_burndown("anthropic.claude-3-7-sonnet-20250219-v1:0") == 5.0
    assert documented_burndown("anthropic.claude-haiku-4-5-20251001-v1:0") == 5.0
    assert documented_burndown(NOVA) == 1.0
    assert documented_burndown("openai.gpt-oss-20b-1:0") == 1.0


def test_significant_rounds_up():
    assert significant(244_321) == 245_000
    assert significant(1000) == 1000
    assert significant(12.01) == 13  # an integer value: at least the next unit
    assert significant(0) == 0


def test_demand_figures_by_hand():
    f = frame()
    # 40 busy minutes on default, 10 of them with throttles; reserved traffic is left out
    for m in range(40):
        f.loc[f.index[m], ("default", "input")] = 1000 + 10 * m
        f.loc[f.index[m], ("default", "cache_write")] = 100
        f.loc[f.index[m], ("default", "output")] = 200
        f.loc[f.index[m], ("default", "invocations")] = 10
        f.loc[f.index[m], ("reserved", "input")] = 99_999
    for m in range(30, 40):
        f.loc[f.index[m], ("default", "throttles")] = 2
    d = demand(f, burndown=5.0)
    q = np.array([1000 + 10 * m + 100 + 200 * 5 for m in range(40)], dtype=float)
    assert d.active_minutes == 40 and d.minutes == 60 and d.reserved_left_out
    assert d.steady_tpm == pytest.approx(np.percentile(q, 50))
    assert d.p90_tpm == pytest.approx(np.percentile(q, 90))
    assert d.peak_tpm == q.max()
    assert (d.steady_rpm, d.peak_rpm) == (10, 10)
    assert d.avg_input_tokens == pytest.approx(sum(1100 + 10 * m for m in range(40)) / 400)
    assert d.avg_output_tokens == pytest.approx(200 / 10)
    per_request = d.avg_input_tokens + d.avg_output_tokens * 5
    assert d.peak_demand_tpm == pytest.approx(q[39] + 2 * per_request)
    assert d.peak_demand_rpm == 12 and d.throttles == 20 and d.peak_throttles_per_min == 2


def test_too_little_history_is_refused():
    f = frame()
    for m in range(5):
        f.loc[f.index[m], ("default", "invocations")] = 1
    with pytest.raises(TooLittleHistory, match="5 minutes with traffic"):
        demand(f, 1.0)


def _spec(measure, value, kind=QuotaKind.ON_DEMAND, model=NOVA):
    what = {Measure.TOKENS: "tokens", Measure.REQUESTS: "requests"}[measure]
    return QuotaSpec(kind, measure, MINUTE_S, value, f"On-demand model inference {what} per minute for Amazon Nova "
                                                     f"Lite", model)


def test_binding_quota_desired_value_and_documents():
    f = frame(tiers=("total",))
    for m in range(60):
        f.loc[f.index[m], ("total", "input")] = 90_000
        f.loc[f.index[m], ("total", "output")] = 10_000
        f.loc[f.index[m], ("total", "invocations")] = 50
    tpm, rpm = _spec(Measure.TOKENS, 100_000), _spec(Measure.REQUESTS, 1000)
    req = build_request(f, identifier=NOVA, region="us-east-1", account="123456789012", profile="p",
                        window=("a", "b"), specs=[tpm, rpm], codes={tpm.name: "L-AAAA0000"},
                        adjustable={tpm.name: True, rpm.name: True}, quota_source="AWS Service Quotas")
    assert req.binding.spec is tpm and req.binding.fraction == pytest.approx(1.0)
    assert req.desired_value == 125_000  # 100,000 × 1.25
    doc = json.loads(json.dumps(req.to_json()))
    assert doc["binding_quota"]["code"] == "L-AAAA0000" and doc["binding_quota"]["adjustable"] is True
    assert doc["figures"]["peak_tpm"] == {"value": 100_000, "source": "CloudWatch AWS/Bedrock, 1-minute sums",
                                          "note": "the highest minute of quota-counted TPM"}
    assert doc["burndown"]["value"] == 1.0 and "AWS documentation" in doc["burndown"]["source"]
    assert doc["route"] == "on-demand" and doc["region"] == "us-east-1"
    assert any("125,000" in j for j in doc["justification"])
    md = req.to_markdown()
    assert "L-AAAA0000" in md and "125,000" in md and "| peak tpm | 100,000 |" in md
    # a cross-region profile id draws on the cross-region quota, which is not listed here: nothing binds
    cross = build_request(f, identifier="us." + NOVA, region="us-east-1", account=None, profile="p",
                          window=("a", "b"), specs=[tpm, rpm], codes={}, adjustable={}, quota_source="x")
    assert cross.route == "cross-region" and cross.binding is None and cross.desired_value is None
    # a quota that covers the peak with headroom: nothing to request, said
    roomy = build_request(f, identifier=NOVA, region="us-east-1", account=None, profile="p", window=("a", "b"),
                          specs=[_spec(Measure.TOKENS, 1_000_000)], codes={}, adjustable={}, quota_source="x")
    assert roomy.desired_value is None and "nothing to request" in roomy.to_markdown()
    assert set(FIELDS) >= {"input", "output"}


def test_a_desired_value_given_says_so_and_one_not_above_the_quota_is_refused():
    """newcomer-3: `--desired 200000` was described as "peak demand × 1.25 headroom", and `--desired 100000`
    below a 120,000 quota was written as an increase request."""
    from tierconsole.core.domain.quotarequest import DesiredNotAbove

    f = frame(tiers=("total",))
    for m in range(60):
        f.loc[f.index[m], ("total", "input")] = 50_000
        f.loc[f.index[m], ("total", "invocations")] = 50
    tpm = _spec(Measure.TOKENS, 100_000)
    kw = dict(identifier=NOVA, region="us-east-1", account="123456789012", profile="p", window=("a", "b"),
              specs=[tpm], codes={tpm.name: "L-AAAA0000"}, adjustable={tpm.name: True}, quota_source="q")
    given = build_request(f, desired=200_000, **kw)
    assert given.desired_value == 200_000
    doc = given.to_json()
    assert doc["desired_source"] == "--desired" and "headroom" not in doc
    assert "200,000 (given with --desired)" in given.to_markdown() and "headroom" not in given.to_markdown()
    computed = build_request(f, headroom=2.5, **kw)
    assert computed.to_json()["desired_source"] == "peak demand × headroom" and computed.to_json()["headroom"] == 2.5
    with pytest.raises(DesiredNotAbove, match="100,000"):
        build_request(f, desired=100_000, **kw)
