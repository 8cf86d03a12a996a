"""CloudWatch metrics of the sandbox, end to end: clients call Converse (boto3 and aiobotocore),
then read ``AWS/Bedrock`` back with GetMetricData and ListMetrics from the same endpoint.

The sums CloudWatch returns must equal what the clients were told (usage in each response).
"""
from __future__ import annotations

import asyncio
import copy
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import boto3
import pytest
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.config import config_document, parse_sandbox_config
from tierconsole.sandbox.outcomes import Outcome

NOVA = "amazon.nova-lite-v1:0"
GPT = "openai.gpt-oss-20b-1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "AKIDSANDBOXTEST", "aws_secret_access_key": "sandbox"}
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=64)
TOKEN_METRICS = ("Invocations", "InvocationThrottles", "InputTokenCount", "OutputTokenCount", "EstimatedTPMQuotaUsage")


def dimension_form():
    """These tests check the publisher's arithmetic per ``ServiceTier`` (the dimension form, a setting); the
    documented suffix form is checked in test_metric_forms.py."""
    doc = copy.deepcopy(config_document())
    doc["sandbox"]["metrics"] = {"tier_form": "dimension"}
    return parse_sandbox_config(doc, "test")


@pytest.fixture
def sandbox():
    sb = Sandbox(dimension_form(), speed=20)
    thread = SandboxThread(sb)
    thread.start()
    yield sb
    thread.stop()


def _body(prompt_tokens: int, max_tokens: int, tier: str | None, salt: str) -> dict:
    text = (salt + " " + "x" * (4 * prompt_tokens))[:4 * prompt_tokens]
    body = {"messages": [{"role": "user", "content": [{"text": text}]}], "inferenceConfig": {"maxTokens": max_tokens}}
    if tier:
        body["serviceTier"] = {"type": tier}
    return body


# (model, asked tier, prompt tokens, maxTokens, count): a mix of tiers, then a burst that overflows
# GPT OSS 20B's 100,000 TPM (holds of 5,000 tokens, 40 at once) so that some calls are throttled.
PLAN = [(NOVA, "priority", 300, 200, 3), (NOVA, "default", 200, 150, 3), (NOVA, None, 100, 100, 2),
        (NOVA, "flex", 250, 100, 2), (SONNET, "reserved", 500, 200, 3), (SONNET, "default", 400, 100, 2),
        (GPT, "default", 4000, 1000, 40)]


class Ledger:
    """What the clients were told, keyed by (model, ServiceTier) and by model."""

    def __init__(self):
        self.by = defaultdict(Counter)

    def success(self, model: str, response: dict) -> None:
        usage, tier = response["usage"], response["serviceTier"]["type"]
        burndown = 5 if model == SONNET else 1
        quota = usage["inputTokens"] + usage["outputTokens"] * (1 if tier == "reserved" else burndown)
        for key in ((model, tier), (model, None)):
            c = self.by[key]
            c["Invocations"] += 1
            c["InputTokenCount"] += usage["inputTokens"]
            c["OutputTokenCount"] += usage["outputTokens"]
            if key[1] is not None or tier != "reserved":  # the model total counts on-demand quota only
                c["EstimatedTPMQuotaUsage"] += quota

    def throttle(self, model: str, asked: str | None) -> None:
        for key in ((model, asked or "default"), (model, None)):
            self.by[key]["InvocationThrottles"] += 1


def _queries(ledger: Ledger, period: int) -> tuple[list[dict], dict]:
    queries, expected = [], {}
    for (model, tier), counts in ledger.by.items():
        dims = [{"Name": "ModelId", "Value": model}] + ([{"Name": "ServiceTier", "Value": tier}] if tier else [])
        for metric in TOKEN_METRICS:
            qid = f"q{len(queries)}"
            queries.append({"Id": qid, "MetricStat": {"Metric": {"Namespace": "AWS/Bedrock", "MetricName": metric,
                                                                 "Dimensions": dims}, "Period": period, "Stat": "Sum"}})
            expected[qid] = (model, tier, metric, counts[metric])
    return queries, expected


def _mismatches(results: list[dict], expected: dict) -> list:
    got = {r["Id"]: sum(r["Values"]) for r in results}
    return [(m, t, metric, want, got.get(qid)) for qid, (m, t, metric, want) in expected.items()
            if got.get(qid) != want]


def _window(sb: Sandbox, t0: float) -> dict:
    start = datetime.fromtimestamp(int(t0) - 120, timezone.utc)
    end = datetime.fromtimestamp(int(sb.clock.now()) + 120, timezone.utc)
    return {"StartTime": start, "EndTime": end}


def _check_period_1(results: list[dict], expected: dict, t0: float) -> None:
    for r in results:
        assert all(v > 0 for v in r["Values"]), "only non-zero aggregates are published"
        stamps = [ts.timestamp() for ts in r["Timestamps"]]
        assert len(set(stamps)) == len(stamps)
        assert all(s == int(s) and s >= int(t0) - 1 for s in stamps), "1-second buckets on the sandbox clock"
    by_id = {r["Id"]: r for r in results}
    total = next(q for q, (m, t, metric, _) in expected.items() if m == GPT and t is None and metric == "Invocations")
    assert len(by_id[total]["Values"]) >= 1


def test_boto3_metrics_match_what_clients_were_told(sandbox):
    endpoint, t0 = sandbox.endpoint, sandbox.clock.now()
    rt = boto3.client("bedrock-runtime", endpoint_url=endpoint, config=NO_RETRY, **CREDS)
    cw = boto3.client("cloudwatch", endpoint_url=endpoint, config=NO_RETRY, **CREDS)
    ledger = Ledger()

    def call(model, tier, prompt, max_tokens, salt):
        try:
            return model, tier, rt.converse(modelId=model, **_body(prompt, max_tokens, tier, salt))
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ThrottlingException", err
            return model, tier, None

    with ThreadPoolExecutor(48) as pool:
        futures = [pool.submit(call, model, tier, p, mt, f"{model}-{tier}-{i}")
                   for model, tier, p, mt, n in PLAN for i in range(n)]
        for f in futures:
            model, tier, resp = f.result()
            ledger.success(model, resp) if resp else ledger.throttle(model, tier)

    # streaming: TimeToFirstToken is published for streams only
    streams = 0
    for i in range(2):
        events = rt.converse_stream(modelId=NOVA, **_body(120, 80, "flex", f"stream-{i}"))["stream"]
        meta = next(e["metadata"] for e in events if "metadata" in e)
        ledger.success(NOVA, meta)
        streams += 1

    assert ledger.by[(GPT, None)]["InvocationThrottles"] > 0, "the burst must throttle some calls"
    assert ledger.by[(GPT, None)]["Invocations"] > 0

    for period in (60, 1):
        queries, expected = _queries(ledger, period)
        deadline, bad = time.monotonic() + 5, ["not queried"]
        while bad and time.monotonic() < deadline:  # the publisher flushes once per real second
            results = cw.get_metric_data(MetricDataQueries=queries, **_window(sandbox, t0))["MetricDataResults"]
            bad = _mismatches(results, expected)
            if bad:
                time.sleep(0.3)
        assert not bad, f"Period {period}: (model, tier, metric, told clients, CloudWatch): {bad}"
        if period == 1:
            _check_period_1(results, expected, t0)

    ttft = cw.get_metric_data(MetricDataQueries=[{"Id": "t", "MetricStat": {"Metric": {
        "Namespace": "AWS/Bedrock", "MetricName": "TimeToFirstToken",
        "Dimensions": [{"Name": "ServiceTier", "Value": "flex"}, {"Name": "ModelId", "Value": NOVA}]},
        "Period": 60, "Stat": "SampleCount"}}], **_window(sandbox, t0))["MetricDataResults"][0]
    assert sum(ttft["Values"]) == streams  # dimension order does not matter

    listed = cw.list_metrics(Namespace="AWS/Bedrock", MetricName="Invocations",
                             Dimensions=[{"Name": "ServiceTier"}])["Metrics"]
    series = [tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in listed]
    assert len(series) == len(set(series)), "one entry per series"
    tiers = {dict(s)["ServiceTier"] for s in series}
    assert {"priority", "default", "flex", "reserved"} <= tiers
    assert (("ModelId", SONNET), ("ServiceTier", "reserved")) in series


async def test_aiobotocore_metrics_match_what_clients_were_told(sandbox):
    endpoint, t0 = sandbox.endpoint, sandbox.clock.now()
    ledger = Ledger()
    session = get_session()
    async with session.create_client("bedrock-runtime", endpoint_url=endpoint, config=NO_RETRY, **CREDS) as rt, \
            session.create_client("cloudwatch", endpoint_url=endpoint, config=NO_RETRY, **CREDS) as cw:

        async def call(model, tier, prompt, max_tokens, salt):
            try:
                ledger.success(model, await rt.converse(modelId=model, **_body(prompt, max_tokens, tier, salt)))
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ThrottlingException", err
                ledger.throttle(model, tier)

        await asyncio.gather(*(call(model, tier, p, mt, f"aio-{model}-{tier}-{i}")
                               for model, tier, p, mt, n in PLAN for i in range(n)))
        assert ledger.by[(GPT, "default")]["InvocationThrottles"] > 0

        for period in (60, 1):
            queries, expected = _queries(ledger, period)
            deadline, bad = time.monotonic() + 5, ["not queried"]
            while bad and time.monotonic() < deadline:
                answer = await cw.get_metric_data(MetricDataQueries=queries, **_window(sandbox, t0))
                results = answer["MetricDataResults"]
                bad = _mismatches(results, expected)
                if bad:
                    await asyncio.sleep(0.3)
            assert not bad, f"Period {period}: (model, tier, metric, told clients, CloudWatch): {bad}"
            if period == 1:
                _check_period_1(results, expected, t0)

        listed = (await cw.list_metrics(Namespace="AWS/Bedrock", Dimensions=[{"Name": "ServiceTier"}]))["Metrics"]
        names = {m["MetricName"] for m in listed}
        assert {"Invocations", "InvocationThrottles", "InputTokenCount", "OutputTokenCount"} <= names


def test_throttles_and_errors_are_not_invocations_and_quiet_seconds_publish_nothing():
    """Publisher arithmetic on hand-made outcomes (a sandbox that is never started)."""
    sb = Sandbox(dimension_form())
    pub = sb.metrics
    base = 1_900_000_000.0
    outcomes = [
        Outcome(time=base + 0.2, request_id="a", operation="Converse", model_id=NOVA, asked_tier=None,
                served_tier="default", status=200, input_tokens=10, output_tokens=5, quota_tokens=15, latency_ms=100),
        Outcome(time=base + 0.9, request_id="b", operation="Converse", model_id=NOVA, asked_tier="flex",
                served_tier=None, status=429, error="ThrottlingException", input_tokens=10),
        Outcome(time=base + 3.1, request_id="c", operation="Converse", model_id=NOVA, asked_tier="priority",
                served_tier=None, status=503, error="ServiceUnavailableException", input_tokens=10),
        Outcome(time=base + 3.5, request_id="d", operation="Converse", model_id=NOVA, asked_tier="priority",
                served_tier=None, status=400, error="ValidationException"),
        Outcome(time=base + 3.6, request_id="e", operation="Converse", model_id=SONNET, asked_tier="reserved",
                served_tier="default", status=200, input_tokens=100, output_tokens=20, quota_tokens=200,
                latency_ms=900, overflowed=True),
        Outcome(time=base + 3.7, request_id="f", operation="Batch", model_id=NOVA, asked_tier=None,
                served_tier="batch", status=200, input_tokens=7, output_tokens=7, source="batch"),
    ]
    for o in outcomes:
        sb.outcomes.record(o)
    assert pub.flush() > 0
    points = [md for md in pub.backend.metric_data if md.namespace == "AWS/Bedrock"]
    got = defaultdict(float)
    for md in points:
        dims = tuple(sorted((d.name, d.value) for d in md.dimensions))
        got[(md.name, dims, int(md.timestamp.replace(tzinfo=timezone.utc).timestamp()))] += md.sum
    nova = (("ModelId", NOVA),)
    assert got[("Invocations", nova, int(base))] == 1
    assert got[("InvocationThrottles", nova + (("ServiceTier", "flex"),), int(base))] == 1
    assert ("Invocations", nova + (("ServiceTier", "flex"),), int(base)) not in got
    assert got[("InvocationServerErrors", nova + (("ServiceTier", "priority"),), int(base) + 3)] == 1
    assert got[("InvocationClientErrors", nova, int(base) + 3)] == 1
    assert not any(name.startswith("ReservedOverflow") for name, _, _ in got), "not an AWS metric"
    assert got[("EstimatedTPMQuotaUsage", (("ModelId", SONNET),), int(base) + 3)] == 200
    assert got[("InputTokenCount", nova, int(base))] == 10, "throttled input is not consumed; batch is not runtime"
    assert all(md.sum != 0 for md in points)
    assert not any(int(md.timestamp.replace(tzinfo=timezone.utc).timestamp()) in (int(base) + 1, int(base) + 2)
                   for md in points), "quiet seconds publish nothing"
    assert pub.flush() == 0

    # retention: datapoints older than the horizon (sandbox time) go
    assert pub.prune(now=base + 3 + pub.retention_s) == sum(
        1 for md in points if md.timestamp.replace(tzinfo=timezone.utc).timestamp() < base + 3)
    assert all(md.timestamp.replace(tzinfo=timezone.utc).timestamp() >= base + 3
               for md in pub.backend.metric_data if md.namespace == "AWS/Bedrock")


def test_series_index_agrees_with_moto_through_appends_and_prunes():
    """The index answers as moto's own GetMetricData does where moto is right (one dimension),
    with datapoints out of order, raw values and statistic sets, after pruning and appending."""
    import random

    from moto.cloudwatch.models import CloudWatchBackend

    from tierconsole.sandbox.services.metrics import _remove, _utc

    backend = Sandbox().metrics.backend
    index = backend.sandbox_series_index
    ns, base, rng = "Test/SeriesIndex", 1_900_000_000, random.Random(7)

    def put(n: int, lo: int, hi: int) -> None:
        data = []
        for _ in range(n):
            ts = _utc(rng.randrange(lo, hi))
            dims = [{"Name": "K", "Value": rng.choice("ab")}]
            if rng.random() < 0.5:
                data.append({"MetricName": "M", "Dimensions": dims, "Timestamp": ts, "Value": rng.randrange(1, 50)})
            else:
                lo_v, hi_v = sorted(rng.randrange(1, 50) for _ in range(2))
                data.append({"MetricName": "M", "Dimensions": dims, "Timestamp": ts, "StatisticValues": {
                    "Sum": lo_v + hi_v, "SampleCount": 2, "Minimum": lo_v, "Maximum": hi_v}})
        backend.put_metric_data(ns, data)

    def same() -> None:
        stats = ("Sum", "SampleCount", "Minimum", "Maximum", "Average")
        combos = [(k, p, s) for k in "ab" for p in (1, 7, 60) for s in stats]
        queries = [{"Id": f"q{i}", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "M",
                                                            "Dimensions": [{"Name": "K", "Value": k}]},
                                                 "Period": period, "Stat": stat}}
                   for i, (k, period, stat) in enumerate(combos)]
        start, end = _utc(base + 13), _utc(base + 1000)
        ours = index.get_metric_data(queries, start, end)
        theirs = CloudWatchBackend.get_metric_data(backend, queries, start, end)
        assert [r["timestamps"] for r in ours] == [r["timestamps"] for r in theirs]
        assert [r["values"] for r in ours] == [pytest.approx(r["values"]) for r in theirs]
        assert sum(len(r["values"]) for r in ours) > 50

    try:
        put(400, base, base + 900)
        same()
        put(100, base, base + 900)  # appended out of order, found by the next query
        same()
        cutoff = _utc(base + 300)
        assert _remove(backend, lambda md: md.namespace == ns and md.timestamp < cutoff) > 0
        same()
        put(50, base, base + 900)
        same()
    finally:
        _remove(backend, lambda md: md.namespace == ns)


#: The metrics AWS documents in ``AWS/Bedrock`` (shared/reference/bedrock-tiers.md, "CloudWatch").
DOCUMENTED_AWS_BEDROCK = {"Invocations", "InvocationLatency", "InvocationClientErrors", "InvocationServerErrors",
                          "InvocationThrottles", "InputTokenCount", "OutputTokenCount", "CacheReadInputTokenCount",
                          "CacheWriteInputTokenCount", "TimeToFirstToken", "EstimatedTPMQuotaUsage"}


def test_overflow_is_published_in_tokens_in_the_sandbox_namespace_never_in_aws_bedrock():
    """No AWS metric counts reservation overflow: the sandbox's own series lives in its own namespace,
    in tokens (what a TPM figure needs) as well as requests."""
    from tierconsole.sandbox.services.metrics import SANDBOX_NAMESPACE

    sb = Sandbox(dimension_form())
    pub = sb.metrics
    base = 1_900_000_100.0
    for i, (inp, cw, out) in enumerate([(100, 0, 20), (300, 50, 40)]):
        sb.outcomes.record(Outcome(time=base + i * 0.3, request_id=f"o{i}", operation="Converse", model_id=SONNET,
                                   asked_tier="reserved", served_tier="default", status=200, input_tokens=inp,
                                   cache_write_tokens=cw, output_tokens=out, quota_tokens=inp + cw + 5 * out,
                                   latency_ms=900, overflowed=True))
    sb.outcomes.record(Outcome(time=base + 0.5, request_id="r", operation="Converse", model_id=SONNET,
                               asked_tier="reserved", served_tier="reserved", status=200, input_tokens=999,
                               output_tokens=99, quota_tokens=1098, latency_ms=900))
    assert pub.flush() > 0
    aws = {md.name for md in pub.backend.metric_data if md.namespace == "AWS/Bedrock"}
    assert aws and aws <= DOCUMENTED_AWS_BEDROCK, aws - DOCUMENTED_AWS_BEDROCK
    own = defaultdict(float)
    for md in pub.backend.metric_data:
        if md.namespace == SANDBOX_NAMESPACE:
            assert [(d.name, d.value) for d in md.dimensions] == [("ModelId", SONNET)]
            own[md.name] += md.sum
    assert own == {"ReservedOverflowInvocations": 2, "ReservedOverflowInputTokenCount": 450,
                   "ReservedOverflowOutputTokenCount": 60}
    assert SANDBOX_NAMESPACE != "AWS/Bedrock" and not SANDBOX_NAMESPACE.startswith("AWS/")
    # retention covers the sandbox's own namespace, and the batch runner's AWS/Bedrock/Batch datapoints
    pub.backend.put_metric_data("AWS/Bedrock/Batch", [{
        "MetricName": "NumberOfRecordsPendingProcessing", "Dimensions": [{"Name": "modelId", "Value": NOVA}],
        "Timestamp": datetime.fromtimestamp(base, timezone.utc).replace(tzinfo=None), "Value": 5.0}])
    assert pub.prune(now=base + 10 + pub.retention_s) > 0
    assert not [md for md in pub.backend.metric_data if md.namespace in (SANDBOX_NAMESPACE, "AWS/Bedrock/Batch")]
