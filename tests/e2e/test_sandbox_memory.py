"""Nothing the sandbox generates or a client sends is kept without bound (counted in objects, not RSS)."""
from __future__ import annotations

import gc
import math
import time
from datetime import timezone

import boto3
import pytest

from tests.conftest import NO_RETRY, REGION

RETENTION_S = 600.0  # sandbox seconds; shortened so that a few real seconds pass it many times


def _live(cls) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


def test_moto_keeps_no_datapoint_the_sandbox_pruned(make_sandbox):
    """A steady scenario at 500x for over an hour of sandbox time: the datapoints alive are the ones the
    CloudWatch backend still holds, and those are within the retention (one per series per second at most).
    moto's BaseModel tracks every instance it ever made in a class list, so pruned datapoints stayed alive."""
    from moto.cloudwatch.models import MetricDatumBase

    import dataclasses

    from tierconsole.sandbox.config import load_sandbox_config

    # An account of its own: moto's CloudWatch backend is per account and region for the whole process, and
    # datapoints another test's sandbox left there (an hour older on its clock) are not this sandbox's to prune.
    config = dataclasses.replace(load_sandbox_config(), account_id="210987654321", bucket="tc-memory-test")
    t = make_sandbox(config, speed=500.0, scenario="steady")
    sb = t.sandbox
    sb.metrics.retention_s = RETENTION_S
    start = sb.clock.now()
    while sb.clock.now() - start < 6 * RETENTION_S:
        time.sleep(0.5)
    now = t.call(lambda: (sb.metrics.flush(), sb.metrics.prune(now := sb.clock.now()), now)[-1])
    backend = sb.metrics.backend
    held = len(backend.metric_data)
    series = {(md.namespace, md.name, frozenset((d.name, d.value) for d in md.dimensions))
              for md in backend.metric_data}
    assert sb.metrics.published > 3 * held  # it did publish (and prune) far more than it holds
    horizon = math.floor(now - RETENTION_S)
    assert min(md.timestamp.replace(tzinfo=timezone.utc).timestamp() for md in backend.metric_data) >= horizon
    assert held <= len(series) * (RETENTION_S + 60)  # one datapoint per series per second, within the retention
    gc.collect()
    # every datapoint any CloudWatch backend of this process holds (other tests' sandboxes, other accounts too)
    from moto.cloudwatch.models import cloudwatch_backends

    held_anywhere = sum(len(cloudwatch_backends[a][r].metric_data) for a in list(cloudwatch_backends.keys())
                        for r in list(cloudwatch_backends[a].keys()))
    assert _live(MetricDatumBase) <= held_anywhere + 500  # + what moto's threads may be answering with


def test_unfollowed_list_metrics_tokens_are_bounded(sandbox):
    """Every ListMetrics answer with more than 500 metrics leaves moto a stored page under a NextToken;
    a client that never follows them must not make the sandbox keep them all."""
    cw = boto3.client("cloudwatch", endpoint_url=sandbox.endpoint, region_name=REGION,
                      config=__import__("botocore.config").config.Config(**NO_RETRY))
    data = [{"MetricName": f"m{i}", "Value": 1.0} for i in range(600)]
    for i in range(0, 600, 150):
        cw.put_metric_data(Namespace="Mem/Test", MetricData=data[i:i + 150])
    first = None
    for _ in range(300):
        page = cw.list_metrics(Namespace="Mem/Test")
        assert len(page["Metrics"]) == 500 and page.get("NextToken")
        first = first or page["NextToken"]
    backend = sandbox.sandbox.metrics.backend
    assert len(backend.paged_metric_data) <= 100  # the documented bound (moto_bridge.MAX_LIST_METRICS_PAGES)
    last = cw.list_metrics(Namespace="Mem/Test")
    rest = cw.list_metrics(Namespace="Mem/Test", NextToken=last["NextToken"])  # a recent token still works
    assert len(rest["Metrics"]) == 100
    with pytest.raises(cw.exceptions.InvalidParameterValueException):  # the oldest was dropped, as a stale token
        cw.list_metrics(Namespace="Mem/Test", NextToken=first)


def test_finished_background_tasks_are_not_kept(sandbox):
    """Each batch job runs as a background task: a finished one must not stay in the sandbox's list."""
    import asyncio

    async def burst():
        async def nothing():
            await asyncio.sleep(0)

        await asyncio.gather(*(sandbox.sandbox.background(nothing()) for _ in range(200)))
        await asyncio.sleep(0)
        return len(sandbox.sandbox._background)

    assert sandbox.call(burst) <= 5  # the metrics flusher and the like, not 200 finished tasks


def test_batch_jobs_kept_are_bounded_oldest_finished_first(make_sandbox):
    """Each CreateModelInvocationJob adds a job record: beyond ``max_jobs`` the oldest finished one is
    forgotten; when none has finished, a new one is refused (ServiceQuotaExceededException), never kept."""
    from botocore.exceptions import ClientError

    from tierconsole.sandbox.services.batch import BatchSettings

    from .test_sandbox_batch import CREDS, FAST, NO_RETRIES, create, make_config, records, upload, wait

    sb = make_sandbox(make_config(), speed=200).sandbox
    sb.batch.settings = BatchSettings(submitted_s=2, validating_s=4, scheduled_s=4, stopping_s=2)
    sb.batch.settings.max_jobs = 3
    kw = dict(endpoint_url=sb.endpoint, config=NO_RETRIES, **CREDS)
    br, s3 = boto3.client("bedrock", **kw), boto3.client("s3", **kw)
    uri = upload(s3, sb.config.bucket, "mem/in.jsonl", records("nova", 2))
    for arn in [create(br, sb, f"mem{i}", FAST, uri) for i in range(3)]:
        wait(br, arn)
    later = [create(br, sb, f"later{i}", FAST, uri) for i in range(3)]
    assert len(sb.batch.jobs) <= 3
    listed = {j["jobArn"] for j in br.list_model_invocation_jobs()["invocationJobSummaries"]}
    assert listed == set(later)  # the three finished ones made room, oldest first
    with pytest.raises(ClientError) as e:  # three active jobs, none finished: no room
        create(br, sb, "refused", FAST, uri)
    assert e.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
    assert len(sb.batch.jobs) == 3
