"""Quota-increase requests on the sandbox, through boto3's ``service-quotas`` client: RequestServiceQuotaIncrease,
ListRequestedServiceQuotaChangeHistory(ByQuota), GetRequestedServiceQuotaChange, the declared errors, the
sandbox's decision setting (``sandbox.quota_requests``) and an approval changing the quota and the engine."""
from __future__ import annotations

import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.clock import FakeClock
from tierconsole.sandbox.config import load_sandbox_config, parse_sandbox_config, config_document

CREDS = {"region_name": "us-east-1", "aws_access_key_id": "AKIDSANDBOXTEST", "aws_secret_access_key": "sandbox"}
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
NOVA = "amazon.nova-lite-v1:0"


def _code(client, name_start: str) -> dict:
    quotas = [q for page in client.get_paginator("list_service_quotas").paginate(ServiceCode="bedrock")
              for q in page["Quotas"]]
    return next(q for q in quotas if q["QuotaName"].startswith(name_start))


@pytest.fixture
def sq():
    sb = Sandbox(clock=FakeClock(start=1_800_000_000.0))
    thread = SandboxThread(sb)
    thread.start()
    yield sb, boto3.client("service-quotas", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
    thread.stop()


def _nova_tpm(client):
    return _code(client, "On-demand model inference tokens per minute for Amazon Nova Lite")


def test_request_is_pending_then_listed_and_got(sq):
    sb, client = sq
    quota = _nova_tpm(client)
    req = client.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"],
                                                DesiredValue=quota["Value"] * 2)["RequestedQuota"]
    assert re.fullmatch(r"[0-9a-f]{32}", req["Id"])
    assert (req["Status"], req["QuotaCode"], req["QuotaName"], req["DesiredValue"]) == (
        "PENDING", quota["QuotaCode"], quota["QuotaName"], quota["Value"] * 2)
    assert req["Requester"] == f"arn:aws:iam::{sb.config.account_id}:root"
    assert req["QuotaRequestedAtLevel"] == "ACCOUNT"
    got = client.get_requested_service_quota_change(RequestId=req["Id"])["RequestedQuota"]
    assert got["Id"] == req["Id"] and got["Status"] == "PENDING"
    listed = client.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"]
    assert [r["Id"] for r in listed] == [req["Id"]]
    by_quota = client.list_requested_service_quota_change_history_by_quota(
        ServiceCode="bedrock", QuotaCode=quota["QuotaCode"])["RequestedQuotas"]
    assert [r["Id"] for r in by_quota] == [req["Id"]]
    other = _code(client, "On-demand model inference requests per minute for Amazon Nova Lite")
    assert client.list_requested_service_quota_change_history_by_quota(
        ServiceCode="bedrock", QuotaCode=other["QuotaCode"])["RequestedQuotas"] == []
    assert client.list_requested_service_quota_change_history(
        ServiceCode="bedrock", Status="APPROVED")["RequestedQuotas"] == []


def test_declared_errors(sq):
    sb, client = sq
    quota = _nova_tpm(client)

    def error(**kwargs):
        with pytest.raises(ClientError) as exc:
            client.request_service_quota_increase(**{"ServiceCode": "bedrock", **kwargs})
        return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]

    assert error(QuotaCode="L-00000000", DesiredValue=5.0) == ("NoSuchResourceException", 400)
    assert error(QuotaCode=quota["QuotaCode"], DesiredValue=quota["Value"]) == ("IllegalArgumentException", 400)
    assert error(QuotaCode=quota["QuotaCode"], DesiredValue=quota["Value"] + 1, ContextId="x") == (
        "IllegalArgumentException", 400)
    fixed = _code(client, "Minimum number of records per batch inference job")
    assert fixed["Adjustable"] is False
    assert error(QuotaCode=fixed["QuotaCode"], DesiredValue=fixed["Value"] + 1) == ("IllegalArgumentException", 400)
    client.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"],
                                          DesiredValue=quota["Value"] * 2)
    assert error(QuotaCode=quota["QuotaCode"], DesiredValue=quota["Value"] * 3) == (
        "ResourceAlreadyExistsException", 400)
    with pytest.raises(ClientError) as exc:
        client.get_requested_service_quota_change(RequestId="0" * 32)
    assert exc.value.response["Error"]["Code"] == "NoSuchResourceException"
    with pytest.raises(ClientError) as exc:
        client.list_requested_service_quota_change_history(ServiceCode="bedrock", NextToken="bm9wZQ==")
    assert exc.value.response["Error"]["Code"] == "InvalidPaginationTokenException"
    assert len(client.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"]) == 1


def test_approval_after_the_sandbox_setting_changes_the_quota_and_the_engine(sq):
    sb, client = sq
    quota = _nova_tpm(client)
    desired = quota["Value"] * 4
    rid = client.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"],
                                                DesiredValue=desired)["RequestedQuota"]["Id"]
    settings = sb.config.quota_requests
    sb.clock.advance(settings.case_after_s + 1)
    got = client.get_requested_service_quota_change(RequestId=rid)["RequestedQuota"]
    assert got["Status"] == "CASE_OPENED" and got["CaseId"]
    assert client.get_service_quota(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"])["Quota"]["Value"] == \
        quota["Value"]
    sb.clock.advance(settings.decide_after_s)
    got = client.get_requested_service_quota_change(RequestId=rid)["RequestedQuota"]
    assert got["Status"] == "APPROVED"
    assert client.get_service_quota(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"])["Quota"]["Value"] == desired
    assert client.get_aws_default_service_quota(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"])[
        "Quota"]["Value"] == quota["Value"]  # the default stays
    use = next(u for u in sb.engine.quota_uses(sb.clock.now(), NOVA) if u.code == quota["QuotaCode"])
    assert use.spec.value == desired  # the engine admits against the new value
    # a new request after the approval is allowed again (no open one)
    client.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"],
                                          DesiredValue=desired * 2)


def test_decision_is_a_sandbox_setting():
    doc = config_document()
    doc["sandbox"]["quota_requests"] = {"decision": "DENIED", "decide_after_s": 5, "case_after_s": 1}
    config = parse_sandbox_config(doc, "test.yaml")
    sb = Sandbox(config=config, clock=FakeClock())
    thread = SandboxThread(sb)
    thread.start()
    try:
        client = boto3.client("service-quotas", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
        quota = _nova_tpm(client)
        rid = client.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"],
                                                    DesiredValue=quota["Value"] + 1)["RequestedQuota"]["Id"]
        sb.clock.advance(6)
        assert client.get_requested_service_quota_change(RequestId=rid)["RequestedQuota"]["Status"] == "DENIED"
        assert client.get_service_quota(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"])["Quota"]["Value"] == \
            quota["Value"]
    finally:
        thread.stop()
    doc["sandbox"]["quota_requests"] = {"decision": "MAYBE"}
    with pytest.raises(Exception, match="sandbox.quota_requests.decision"):
        parse_sandbox_config(doc, "test.yaml")
    assert load_sandbox_config().quota_requests.decision == "APPROVED"


def test_stored_requests_are_bounded():
    doc = config_document()
    doc["sandbox"]["quota_requests"] = {"max_requests": 10, "decide_after_s": 2, "case_after_s": 1}
    sb = Sandbox(config=parse_sandbox_config(doc, "test.yaml"), clock=FakeClock())
    thread = SandboxThread(sb)
    thread.start()
    client = boto3.client("service-quotas", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
    quota = _nova_tpm(client)
    keep = sb.config.quota_requests.max_requests
    value = quota["Value"]
    for _ in range(keep + 5):  # each approved at once, then another: only the newest `keep` are kept
        value += 1
        client.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"], DesiredValue=value)
        sb.clock.advance(sb.config.quota_requests.decide_after_s + 1)
    ids = [r["Id"] for page in client.get_paginator("list_requested_service_quota_change_history").paginate(
        ServiceCode="bedrock") for r in page["RequestedQuotas"]]
    thread.stop()
    assert len(ids) == keep


def test_an_approval_reaches_the_engine_at_its_time_without_any_read():
    import time

    sb = Sandbox(speed=1000.0)  # the default decision: APPROVED 600 sandbox seconds (0.6 s here) after filing
    thread = SandboxThread(sb)
    thread.start()
    try:
        client = boto3.client("service-quotas", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
        quota = _nova_tpm(client)
        client.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"],
                                              DesiredValue=quota["Value"] * 3)

        def value():
            return next(u for u in sb.engine.quota_uses(sb.clock.now(), NOVA) if u.code == quota["QuotaCode"]).spec.value

        deadline = time.monotonic() + 10
        while value() != quota["Value"] * 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert value() == quota["Value"] * 3
    finally:
        thread.stop()
