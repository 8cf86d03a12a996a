"""A batch submit from a fleet drill-in acts in the drilled account (newcomer-5 F1): its input goes to that
account's own bucket (on the fleet sandbox ``<bucket>-<account id>``), uploaded with that account's credentials,
and the job runs there; nothing lands in the monitoring account's bucket. Driven through the same core op the
TUI's ``b`` calls (:func:`tierconsole.core.ops.batch.submit`), with boto3 reading the buckets back."""
from __future__ import annotations

import asyncio
import time

import boto3
import pytest
from botocore.config import Config

from tierconsole.core.config.profiles import _load
from tierconsole.core.domain.fleetrows import FleetRow
from tierconsole.core.ops import batch
from tierconsole.core.ops.fleet import check_drill, drill_source
from tierconsole.core.session import OperatorSession
from tierconsole.core.source import LiveSource

from .test_fleet_tiers import shipped_fleet, start_fleet_sandbox
from .test_headless import batch_file

PAYMENTS, MONITORING, NOVA, REGION = "200000000001", "100000000000", "amazon.nova-lite-v1:0", "us-east-1"
BUCKET = "tierconsole-fleet-batch-test"


@pytest.fixture(autouse=True)
def _xdg(tmp_path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(var, str(tmp_path / var))


def s3_as(endpoint: str, account: str | None):
    key = "sandbox" if account is None else f"sandbox-{account}"
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key="sandbox", config=Config(retries={"max_attempts": 1}))


def keys(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def drilled_row(account: str, name: str) -> FleetRow:
    return FleetRow(account_id=account, account_name=name, region=REGION, series=NOVA, model_id=NOVA,
                    route="on_demand", tpm_used=None, rpm_used=None, throttles_per_min=None)


async def _submit_as_payments(endpoint: str, path: str) -> tuple[dict, str, str]:
    fleet = LiveSource(_load("fleet", "fleet.yaml", "user", shipped_fleet(BUCKET)), endpoint_url=endpoint)
    fleet.start()
    session = OperatorSession(drill_source(fleet, drilled_row(PAYMENTS, "payments-prod")))
    try:
        await session.start()
        await check_drill(session, PAYMENTS)
        job = await batch.submit(session, path, NOVA, "payments-nightly")
        sts = await (await session.context()).client("sts", REGION)  # the context the op's S3 client came from
        acting = (await sts.get_caller_identity())["Account"]
        return job, acting, session.guard.account_id or ""
    finally:
        await session.close()
        await fleet.close()


def test_drilled_batch_submit_uploads_to_the_account_s_own_bucket_and_the_job_completes(tmp_path):
    thread = start_fleet_sandbox(shipped_fleet(BUCKET), speed=200)
    try:
        endpoint = thread.sandbox.endpoint
        job, acting, account = asyncio.run(_submit_as_payments(endpoint, str(batch_file(tmp_path / "rec.jsonl", 100))))
        assert acting == PAYMENTS and account == PAYMENTS
        own = f"{BUCKET}-{PAYMENTS}"
        assert job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"] == f"s3://{own}/input/payments-nightly/rec.jsonl"
        assert job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"] == f"s3://{own}/output/"
        assert f":{PAYMENTS}:" in job["jobArn"] and f"::{PAYMENTS}:" in job["roleArn"]
        assert keys(s3_as(endpoint, PAYMENTS), own) == ["input/payments-nightly/rec.jsonl"]
        assert keys(s3_as(endpoint, None), BUCKET) == [], "data written into the monitoring account's bucket"
        bedrock = boto3.client("bedrock", endpoint_url=endpoint, region_name=REGION,
                               aws_access_key_id=f"sandbox-{PAYMENTS}", aws_secret_access_key="sandbox")
        deadline = time.monotonic() + 60
        while (got := bedrock.get_model_invocation_job(jobIdentifier=job["jobArn"]))["status"] not in (
                "Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"):
            assert time.monotonic() < deadline, got["status"]
            time.sleep(0.5)
        assert got["status"] == "Completed", got.get("message")
    finally:
        thread.stop()
