"""The sandbox's S3 (moto) keeps nothing a client sends without bound, and nothing a client stores can make a
later request fail: bucket names are S3's, objects, buckets, multipart uploads and stored bytes are bounded by
the sandbox's ``sandbox.s3`` settings, each refused with the error S3 itself answers (or, where S3 has no such
limit, the closest one, naming the setting).

moto keeps S3 state per account for the whole process, so each sandbox here has an account of its own.
"""
from __future__ import annotations

import itertools
import urllib.parse
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.test_sandbox_passthrough import send

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
_accounts = itertools.count(1)


def account() -> str:
    """An account no other sandbox of this test process uses (moto's S3 state is per account, process-wide)."""
    return f"9{uuid.uuid4().int % 10**6:06d}{next(_accounts):05d}"


def s3_client(sb):
    return boto3.client("s3", endpoint_url=sb.endpoint, config=NO_RETRY, region_name="us-east-1",
                        aws_access_key_id="sandbox", aws_secret_access_key="sandbox")


def error(excinfo) -> tuple[str, int, str]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def config(**s3):
    from tierconsole.sandbox.config import load_sandbox_config, parse_s3_limits

    base = load_sandbox_config()
    import dataclasses

    return dataclasses.replace(base, account_id=account(), bucket=f"tc-{uuid.uuid4().hex[:12]}",
                               s3=parse_s3_limits(s3 or None, "sandbox.s3"))


@pytest.fixture(scope="module")
def own(module_sandbox):
    return module_sandbox


# ---------------------------------------------------------------------- bucket names (the CI ListBuckets 500)

BAD_NAMES = ["ab\x01", "a\x0bb", "a b c", "ab<&>", "AB_CD", "ab\u00e9", "-ab", "ab-", "a..b", "192.168.5.4",
             "xn--abc", "sthree-abc", "abc-s3alias", "abc--ol-s3", "ab", "a" * 64, "abc_def"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bucket_name_s3_refuses_is_invalid_bucket_name_and_listbuckets_keeps_working(own, name):
    """A bucket named with a control character (the hostile test's random PUT paths made one) was stored by
    moto, and every later ListBuckets was an XML document botocore could not parse — which it reports as a 500."""
    status, _h, payload = send(own.endpoint, "PUT", "/" + urllib.parse.quote(name, safe=""))
    assert status == 400, (status, payload[:300])
    assert b"<Code>InvalidBucketName</Code>" in payload
    names = [b["Name"] for b in s3_client(own).list_buckets()["Buckets"]]
    assert name not in names


@given(name=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=70))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_bucket_name_makes_a_later_listbuckets_fail(own, name):
    status, _h, payload = send(own.endpoint, "PUT", "/" + urllib.parse.quote(name, safe=""))
    assert status < 500, (status, payload[:300])
    s3_client(own).list_buckets()  # botocore parses every name (an unparseable answer is its "500")
    if status < 300:
        send(own.endpoint, "DELETE", "/" + urllib.parse.quote(name, safe=""))


def test_a_valid_name_is_still_created(own):
    s3 = s3_client(own)
    name = f"ok.name-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.delete_bucket(Bucket=name)
