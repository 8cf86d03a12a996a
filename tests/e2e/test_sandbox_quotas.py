"""Service Quotas for ``bedrock`` on the sandbox endpoint, through boto3's ``service-quotas`` client."""
from __future__ import annotations

import re

import boto3
import pytest
from botocore.config import Config

from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.services.servicequotas import quota_code

CREDS = {"region_name": "us-east-1", "aws_access_key_id": "AKIDSANDBOXTEST", "aws_secret_access_key": "sandbox"}
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def _started():
    sb = Sandbox()
    thread = SandboxThread(sb)
    thread.start()
    client = boto3.client("service-quotas", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
    return sb, thread, client


@pytest.fixture
def quotas():
    sb, thread, client = _started()
    yield sb, client
    thread.stop()


def _all(client, op: str, page_size: int) -> list[dict]:
    pages = client.get_paginator(op).paginate(ServiceCode="bedrock", PaginationConfig={"PageSize": page_size})
    return [q for page in pages for q in page["Quotas"]]


def _expected(sb: Sandbox) -> dict[str, float]:
    out = {}
    for m in sb.config.catalog.models:
        prefixes = ["On-demand"] + (["Cross-region"] if set(m.profiles) - {"global"} else []) + (
            ["Global cross-Region"] if "global" in m.profiles else [])
        for prefix in prefixes:
            out[f"{prefix} model inference tokens per minute for {m.name}"] = m.tpm
            out[f"{prefix} model inference requests per minute for {m.name}"] = m.rpm
        out[f"Model invocation max tokens per day for {m.name}"] = m.tokens_per_day
        out[f"Minimum number of records per batch inference job for {m.name}"] = m.batch_min_records
        out[f"Records per batch inference job for {m.name}"] = m.batch_max_records
    out["Cross-Model Max Tokens Per Day"] = sum(m.tokens_per_day for m in sb.config.catalog.models)
    return out


def test_quotas_are_the_catalog_values(quotas):
    sb, client = quotas
    listed = _all(client, "list_service_quotas", 100)
    assert {q["QuotaName"]: q["Value"] for q in listed} == _expected(sb)
    assert len(listed) == len(_expected(sb))
    assert any(q["QuotaName"].startswith("Global cross-Region") for q in listed)  # the built-in catalog has some
    for q in listed:
        assert re.fullmatch(r"L-[0-9A-F]{8}", q["QuotaCode"])
        assert q["QuotaCode"] == quota_code(q["QuotaName"])
        assert q["QuotaArn"] == f"arn:aws:servicequotas:us-east-1:{sb.config.account_id}:bedrock/{q['QuotaCode']}"
        assert (q["ServiceCode"], q["Unit"], q["Adjustable"], q["GlobalQuota"]) == ("bedrock", "None", not q["QuotaName"].startswith("Minimum"), False)
    tpm = next(q for q in listed if q["QuotaName"].startswith("On-demand model inference tokens per minute"))
    assert tpm["Period"] == {"PeriodValue": 1, "PeriodUnit": "MINUTE"}
    assert _all(client, "list_aws_default_service_quotas", 100) == listed  # no increases in the sandbox


def test_pagination(quotas):
    sb, client = quotas
    first = client.list_service_quotas(ServiceCode="bedrock", MaxResults=4)
    assert len(first["Quotas"]) == 4 and first["NextToken"]
    second = client.list_service_quotas(ServiceCode="bedrock", MaxResults=4, NextToken=first["NextToken"])
    assert {q["QuotaCode"] for q in first["Quotas"]}.isdisjoint(q["QuotaCode"] for q in second["Quotas"])
    paged = _all(client, "list_service_quotas", 4)
    assert [q["QuotaCode"] for q in paged] == [q["QuotaCode"] for q in _all(client, "list_service_quotas", 100)]
    last = client.list_service_quotas(ServiceCode="bedrock", MaxResults=100)
    assert "NextToken" not in last
    with pytest.raises(client.exceptions.InvalidPaginationTokenException):
        client.list_service_quotas(ServiceCode="bedrock", NextToken="not-a-token")


def test_get_by_code_and_errors(quotas):
    sb, client = quotas
    name = f"On-demand model inference requests per minute for {sb.config.catalog.models[1].name}"
    quota = client.get_service_quota(ServiceCode="bedrock", QuotaCode=quota_code(name))["Quota"]
    assert (quota["QuotaName"], quota["Value"]) == (name, sb.config.catalog.models[1].rpm)
    default = client.get_aws_default_service_quota(ServiceCode="bedrock", QuotaCode=quota_code(name))["Quota"]
    assert default["Value"] == quota["Value"]
    only = client.list_service_quotas(ServiceCode="bedrock", QuotaCode=quota_code(name))["Quotas"]
    assert [q["QuotaName"] for q in only] == [name]
    with pytest.raises(client.exceptions.NoSuchResourceException):
        client.list_service_quotas(ServiceCode="ec2")
    with pytest.raises(client.exceptions.NoSuchResourceException):
        client.list_aws_default_service_quotas(ServiceCode="lambda")
    with pytest.raises(client.exceptions.NoSuchResourceException):
        client.get_service_quota(ServiceCode="bedrock", QuotaCode="L-00000000")


def test_codes_are_stable_across_sandboxes(quotas):
    _sb, client = quotas
    codes = {q["QuotaName"]: q["QuotaCode"] for q in _all(client, "list_service_quotas", 50)}
    _sb2, thread2, client2 = _started()
    try:
        again = {q["QuotaName"]: q["QuotaCode"] for q in _all(client2, "list_service_quotas", 7)}
    finally:
        thread2.stop()
    assert again == codes
    assert len(set(codes.values())) == len(codes)
    # the code is a pure function of the name: pinned so that a change of derivation is caught
    assert quota_code("On-demand model inference tokens per minute for Amazon Nova Lite") == "L-6FF88E58"
