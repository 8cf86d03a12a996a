"""Amazon SNS on the sandbox endpoint (moto behind the bridge): what a watch's SNS sink does, the errors the
model declares, and a bound on what moto keeps of the messages published."""
from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import boto3_client
from tierconsole.sandbox.services.moto_bridge import MAX_SNS_KEPT


def test_publish_is_kept_bounded_and_errors_are_the_declared_ones(sandbox):
    from moto.sns.models import sns_backends

    sns = boto3_client("sns", sandbox.endpoint)
    arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    for i in range(MAX_SNS_KEPT + 30):
        sns.publish(TopicArn=arn, Message=f"m{i}", Subject="s",
                    MessageAttributes={"kind": {"DataType": "String", "StringValue": "quota_over"}})
    kept = sns_backends[sandbox.sandbox.config.account_id]["us-east-1"].topics[arn].sent_notifications
    assert len(kept) == MAX_SNS_KEPT and kept[-1][1] == f"m{MAX_SNS_KEPT + 29}"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn + "-gone", Message="x")
    assert e.value.response["Error"]["Code"] == "NotFound"
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name="no spaces allowed")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
