"""--auth: the sandbox verifies real SigV4 signatures from configured keys; secrets never appear."""
from __future__ import annotations

import subprocess
import sys

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from tests.conftest import NOVA, user

KEYS = {"AKIATESTSANDBOX00001": "s3cr3t-sandbox-key-value"}


def client(service, endpoint, akid, secret):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=akid,
                        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


@pytest.fixture
def guarded(make_sandbox):
    from tierconsole.sandbox.config import load_sandbox_config
    return make_sandbox(load_sandbox_config(), speed=50.0, auth_keys=KEYS)


@pytest.mark.parametrize("service, call", [
    ("bedrock-runtime", lambda c: c.converse(modelId=NOVA, messages=user("signed"))),
    ("sts", lambda c: c.get_caller_identity()),
    ("s3", lambda c: c.put_object(Bucket="tierconsole-sandbox", Key="auth/x.txt", Body=b"a b c")),
    ("cloudwatch", lambda c: c.list_metrics(Namespace="AWS/Bedrock")),
    ("bedrock", lambda c: c.list_foundation_models()),
])
def test_valid_signatures_pass_and_bad_ones_fail(guarded, service, call):
    akid, secret = next(iter(KEYS.items()))
    call(client(service, guarded.endpoint, akid, secret))  # no exception
    with pytest.raises(botocore.exceptions.ClientError) as bad:
        call(client(service, guarded.endpoint, akid, "wrong-secret"))
    assert bad.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert secret not in str(bad.value) and "wrong-secret" not in str(bad.value)
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        call(client(service, guarded.endpoint, "AKIAUNKNOWN000000000", secret))
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_auth_file_errors_name_the_file(tmp_path):
    f = tmp_path / "keys.yaml"
    f.write_text("access_keys: []\n")
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", "--auth", str(f)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and str(f) in out.stderr and "access_keys" in out.stderr
