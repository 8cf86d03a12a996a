"""Per-tier metrics as AWS names them: the sandbox publishes ``ModelId=<series>+priority`` / ``+flex`` by default,
the ``ServiceTier`` dimension as a setting, and the console discovers which with one ListMetrics and reads either.

End to end: real boto3/aiobotocore calls against two sandboxes on loopback (one per form), read back by raw
CloudWatch calls and by the console's collector; the panes' figures must agree with what the clients were told.
"""
from __future__ import annotations

import asyncio
import copy
import dataclasses
import time
from datetime import datetime, timezone

import pytest

from tierconsole.core.aws.collectors import Collector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile
from tierconsole.core.domain import metricsplan as mp
from tierconsole.sandbox.config import config_document, parse_sandbox_config
from tests.conftest import NOVA, SONNET, boto3_client, clear_of_minute_end, user

US_NOVA = "us." + NOVA
# (model id as called, tier, calls): Nova at every on-demand tier and with no tier, Sonnet on its reservation
TRAFFIC = [(NOVA, "priority", 2), (NOVA, "default", 2), (NOVA, None, 1), (NOVA, "flex", 1), (SONNET, "reserved", 2)]


def config(**metrics):
    doc = copy.deepcopy(config_document())
    doc["sandbox"]["metrics"] = metrics
    return parse_sandbox_config(doc, "test")


def send(endpoint: str, traffic=TRAFFIC) -> dict:
    """Converse calls; returns the on-demand quota tokens (burndown 1 for Nova) and calls the responses told,
    per (model, served tier)."""
    rt = boto3_client("bedrock-runtime", endpoint)
    told: dict = {}
    for model, tier, n in traffic:
        for i in range(n):
            kwargs = {"serviceTier": {"type": tier}} if tier else {}
            r = rt.converse(modelId=model, messages=user(f"call {i} {tier}"), inferenceConfig={"maxTokens": 20},
                            **kwargs)
            key = (model, r["serviceTier"]["type"])
            tokens, calls = told.get(key, (0, 0))
            told[key] = (tokens + r["usage"]["inputTokens"] + r["usage"]["outputTokens"], calls + 1)
    return told


def listed(endpoint: str) -> set[tuple]:
    cw = boto3_client("cloudwatch", endpoint)
    return {tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))
            for m in cw.list_metrics(Namespace="AWS/Bedrock", MetricName="Invocations")["Metrics"]}


def bare_invocations(sb) -> float:
    """Nova's ``Invocations`` in its bare ``ModelId`` series over the last ten sandbox minutes."""
    cw = boto3_client("cloudwatch", sb.endpoint)
    now = sb.sandbox.clock.now()
    points = cw.get_metric_statistics(Namespace="AWS/Bedrock", MetricName="Invocations",
                                      Dimensions=[{"Name": "ModelId", "Value": NOVA}],
                                      StartTime=datetime.fromtimestamp(now - 600, timezone.utc),
                                      EndTime=datetime.fromtimestamp(now + 60, timezone.utc), Period=3600,
                                      Statistics=["Sum"])["Datapoints"]
    return sum(d["Sum"] for d in points)


def wait_published(sb, n: int) -> None:
    deadline = time.monotonic() + 10
    while sb.metrics.published < n and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.2)  # the last second's flush


async def collect(endpoint: str, **metrics):
    profile = load_profile("sandbox")
    if metrics:
        profile = dataclasses.replace(profile, metrics=mp.MetricsSettings(**{"tier_form": "auto", **metrics}))
    ctx = AwsContext(Target(profile, endpoint, sandbox=True))
    try:
        collector = Collector(ctx)
        data = await collector.refresh()
        data = await collector.refresh()  # the second refresh: no second discovery
        return collector, data
    finally:
        await ctx.close()


def test_the_sandbox_publishes_the_documented_suffix_form_by_default(make_sandbox):
    sb = make_sandbox(speed=50.0)
    send(sb.endpoint)
    wait_published(sb.sandbox, 1)
    series = listed(sb.endpoint)
    assert (("ModelId", NOVA + "+priority"),) in series and (("ModelId", NOVA + "+flex"),) in series
    assert (("ModelId", SONNET + "+reserved"),) in series  # the reserved_suffix setting (default on)
    assert (("ModelId", NOVA),) in series  # the bare series
    assert not any(v.endswith("+default") for s in series for _, v in s), "Standard has no suffix"
    assert not any(name == "ServiceTier" for s in series for name, _ in s), "no invented dimension in AWS/Bedrock"
    assert bare_invocations(sb) == 6  # the bare series is the model total: every Nova call is in it


def test_sandbox_metric_settings_reserved_suffix_bare_standard_and_profile_series(make_sandbox):
    sb = make_sandbox(config(reserved_suffix=False, bare_model_id="standard"), speed=50.0)
    send(sb.endpoint, TRAFFIC + [(US_NOVA, "flex", 1)])
    wait_published(sb.sandbox, 1)
    series = listed(sb.endpoint)
    assert not any(v.endswith("+reserved") for s in series for _, v in s)
    assert (("ModelId", US_NOVA + "+flex"),) in series  # a profile call: under the profile id as called
    assert bare_invocations(sb) == 3  # Standard only: the two asked for it and the one that named no tier

    sb = make_sandbox(config(profile_model_id="model"), speed=50.0)
    send(sb.endpoint, [(US_NOVA, "flex", 1)])
    wait_published(sb.sandbox, 1)
    series = listed(sb.endpoint)
    assert (("ModelId", NOVA + "+flex"),) in series and not any(v.startswith("us.") for s in series for _, v in s)


def test_a_bad_metrics_setting_names_the_field():
    from tierconsole.core.domain.catalog import ConfigError

    with pytest.raises(ConfigError, match=r"sandbox\.metrics\.tier_form.*suffix, dimension.*'servicetier'"):
        config(tier_form="servicetier")
    with pytest.raises(ConfigError, match=r"sandbox\.metrics\.colour: unknown key"):
        config(colour="red")


@pytest.mark.parametrize("form", ["suffix", "dimension"])
async def test_the_console_discovers_either_form_and_shows_the_same_figures(make_sandbox, form):
    sb = make_sandbox(config(tier_form=form), speed=1.0)  # metrics on the wall clock: the collector's clock
    clear_of_minute_end(20)
    told = await asyncio.to_thread(send, sb.endpoint)
    await asyncio.to_thread(wait_published, sb.sandbox, 1)
    collector, data = await collect(sb.endpoint)

    assert collector.discovery.form == form and collector.discovery.seen
    assert collector.calls.counts["ListMetrics"] == 1, "one discovery, not one per refresh"
    assert collector.calls.counts["GetMetricData"] == 2, "one GetMetricData per refresh"
    assert collector.tiers[NOVA] == {"priority", "default", "flex"}
    assert "reserved" in collector.tiers[SONNET]
    [nova] = [q for q in data.quotas if q.model_id == NOVA]
    assert nova.tpm_by_tier == {"priority": told[(NOVA, "priority")][0], "default": told[(NOVA, "default")][0],
                                "flex": told[(NOVA, "flex")][0]}
    assert nova.rpm_used == 6
    [res] = data.reservations
    assert res.input_tpm_used > 0 and res.output_tpm_used > 0
    assert data.status["quota"].ok and data.status["throttles"].ok


async def test_bare_model_id_standard_is_read_as_standard(make_sandbox):
    sb = make_sandbox(config(bare_model_id="standard"), speed=1.0)
    clear_of_minute_end(20)
    told = await asyncio.to_thread(send, sb.endpoint)
    await asyncio.to_thread(wait_published, sb.sandbox, 1)
    _, data = await collect(sb.endpoint, bare_model_id="standard")
    [nova] = [q for q in data.quotas if q.model_id == NOVA]
    assert nova.tpm_by_tier["default"] == told[(NOVA, "default")][0]
    assert nova.rpm_used == 6


async def test_with_nothing_published_the_profile_form_is_asked_in_the_one_call(make_sandbox):
    sb = make_sandbox(speed=50.0)
    collector, data = await collect(sb.endpoint, tier_form="suffix")
    assert collector.discovery.form == "suffix" and not collector.discovery.seen
    assert collector.calls.counts["GetMetricData"] == 2 and collector.calls.counts["ListMetrics"] == 1
    assert collector.tiers[NOVA] == {"priority", "default", "flex"}
    assert all(q.tpm_used == 0 for q in data.quotas)
    collector, _ = await collect(sb.endpoint, tier_form="auto")  # auto: totals until a form is seen
    assert collector.discovery.form is None and collector.tiers == {}
    collector, _ = await collect(sb.endpoint)  # the sandbox profile: the form its own sandbox publishes
    assert collector.discovery.form == "suffix" and not collector.discovery.seen


@pytest.mark.parametrize("form", ["suffix", "dimension"])
async def test_the_capacity_plan_history_reads_either_form(make_sandbox, form):
    from tierconsole.core.aws.history import fetch_history
    from tests.conftest import aio_client

    sb = make_sandbox(config(tier_form=form), speed=50.0)
    told = await asyncio.to_thread(send, sb.endpoint)
    await asyncio.to_thread(wait_published, sb.sandbox, 1)
    async with aio_client("cloudwatch", sb.endpoint) as cw:
        h = await fetch_history(cw, NOVA, days=1, now=sb.sandbox.clock.now() + 120)
    assert (h.form, h.tier_split, set(h.tiers)) == (form, True, {"priority", "default", "flex"})
    invocations = h.frame.xs("invocations", level="field", axis=1).sum().to_dict()
    assert invocations == {"priority": 2, "default": 3, "flex": 1}
    inputs = h.frame.xs("input", level="field", axis=1).sum().to_dict()
    assert inputs["default"] > 0 and inputs["priority"] > 0 and h.to_json()["source"] != "model totals (no per-tier series)"
    assert sum(told[(NOVA, t)][1] for t in ("priority", "default", "flex")) == 6


async def test_discovery_pages_only_beyond_500_series(make_sandbox):
    """600 ``Invocations`` series (AWS's page is 500): one discovery is two ListMetrics, then none for a while."""
    sb = make_sandbox(speed=1.0)
    # uncompressed: the sandbox's aiohttp server inflates a gzip body and moto then fails to (reported separately)
    cw = boto3_client("cloudwatch", sb.endpoint, disable_request_compression=True)
    now = datetime.fromtimestamp(time.time(), timezone.utc)
    names = [f"vendor.model-{i:03d}+flex" for i in range(300)] + [f"vendor.model-{i:03d}" for i in range(300)]
    for i in range(0, len(names), 500):
        cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
            {"MetricName": "Invocations", "Dimensions": [{"Name": "ModelId", "Value": v}], "Value": 1.0,
             "Timestamp": now} for v in names[i:i + 500]])
    collector, _ = await collect(sb.endpoint, tier_form="auto")
    assert collector.calls.counts["ListMetrics"] == 2 and collector.calls.counts["GetMetricData"] == 2
    assert collector.discovery.form == "suffix" and collector.discovery.series["vendor.model-007"] == {"flex"}
