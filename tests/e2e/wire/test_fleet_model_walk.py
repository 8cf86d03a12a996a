"""Every OAM operation, and cross-account CloudWatch, checked against botocore's models on the wire.

The same checker as the model walk (``test_botocore_model_walk``: raw answers against the output and error
shapes, declared error codes and statuses), on a fleet sandbox: a monitoring account and two source accounts,
no links made at start (``oam: none``), so the walk itself makes the sink, the policy and the link.
"""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.e2e.test_sandbox_fleet import FLEET, MONITORING, PAYMENTS, SEARCH, fleet_config
from tests.e2e.wire.test_botocore_model_walk import FAULT_KINDS, SIGNING, Recorder, _model, problems_of
from tierconsole.core.domain.sandboxkeys import account_credentials
from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.faults import parse_faults

METRIC = "AWS::CloudWatch::Metric"


@pytest.fixture(scope="module")
def walked():
    thread = SandboxThread(Sandbox(fleet_config(FLEET.replace("oam: auto", "oam: none")), speed=50.0))
    thread.start()
    sb = thread.sandbox
    monitoring = {s: Recorder(sb.endpoint, s) for s in ("oam", "cloudwatch")}
    source = Recorder(sb.endpoint, "oam", account_credentials(SEARCH)[0])
    outsider = Recorder(sb.endpoint, "oam", account_credentials(PAYMENTS)[0])
    results = []

    def walk(rec: Recorder, service: str, operation: str, calls: list, faults: bool = True) -> dict:
        for label, params, expected in calls:
            results.append((service, operation, label, expected, rec.call(operation, params)))
        first_ok = next((params for _, params, expected in calls if expected == "ok"), None)
        if faults and first_ok is not None:
            for kind in FAULT_KINDS:  # failed before the handler: the state does not change
                sb.faults.rules = parse_faults(f"{kind}#1:{SIGNING[service]}")
                results.append((service, operation, f"fault {kind}", "error", rec.call(operation, first_ok)))
                sb.faults.rules = []
        return json.loads(next(a for *_, e, a in reversed(results) if e == "ok")["body"] or b"{}")

    oam = monitoring["oam"]
    sink = walk(oam, "oam", "CreateSink", [("ok", {"Name": "walk", "Tags": {"team": "sre"}}, "ok"),
                                          ("second", {"Name": "again"}, "ServiceQuotaExceededException"),
                                          ("bad name", {"Name": "no spaces"}, "InvalidParameterException"),
                                          ("no name", {}, "MissingRequiredParameterException")])["Arn"]
    missing_sink = f"arn:aws:oam:us-east-1:{MONITORING}:sink/00000000-0000-0000-0000-000000000000"
    walk(oam, "oam", "GetSink", [("ok", {"Identifier": sink, "IncludeTags": True}, "ok"),
                                 ("missing", {"Identifier": missing_sink}, "ResourceNotFoundException")])
    walk(oam, "oam", "ListSinks", [("ok", {"MaxResults": 5}, "ok"),
                                   ("bad token", {"NextToken": "bm9wZQ=="}, "InvalidParameterException"),
                                   ("too many", {"MaxResults": 101}, "InvalidParameterException")])
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": [SEARCH]},
                                                                 "Action": ["oam:CreateLink"], "Resource": "*"}]})
    walk(oam, "oam", "PutSinkPolicy", [("ok", {"SinkIdentifier": sink, "Policy": policy}, "ok"),
                                       ("not json", {"SinkIdentifier": sink, "Policy": "{"},
                                        "InvalidParameterException")])
    walk(oam, "oam", "GetSinkPolicy", [("ok", {"SinkIdentifier": sink}, "ok"),
                                       ("missing", {"SinkIdentifier": missing_sink}, "ResourceNotFoundException")])
    walk(oam, "oam", "TagResource", [("ok", {"ResourceArn": sink, "Tags": {"env": "walk"}}, "ok"),
                                     ("missing", {"ResourceArn": missing_sink, "Tags": {"a": "b"}},
                                      "ResourceNotFoundException"),
                                     ("too many", {"ResourceArn": sink, "Tags": {f"k{i}": "v" for i in range(50)}},
                                      "TooManyTagsException")])
    walk(oam, "oam", "ListTagsForResource", [("ok", {"ResourceArn": sink}, "ok"),
                                             ("missing", {"ResourceArn": missing_sink}, "ResourceNotFoundException")])
    walk(oam, "oam", "UntagResource", [("ok", {"ResourceArn": sink, "TagKeys": ["env"]}, "ok")])
    link_args = {"SinkIdentifier": sink, "LabelTemplate": "$AccountName", "ResourceTypes": [METRIC]}
    walk(outsider, "oam", "CreateLink", [("not admitted", link_args, "InvalidParameterException")], faults=False)
    link = walk(source, "oam", "CreateLink", [
        ("ok", {**link_args, "LinkConfiguration": {"MetricConfiguration": {"Filter": "Namespace = 'AWS/Bedrock'"}},
                "Tags": {"t": "1"}}, "ok"),
        ("again", link_args, "ConflictException"),
        ("bad filter", {**link_args, "LinkConfiguration": {"MetricConfiguration": {"Filter": "Region = 'x'"}}},
         "InvalidParameterException"),
        ("no sink", {"LabelTemplate": "$AccountName", "ResourceTypes": [METRIC]},
         "MissingRequiredParameterException"),
        ("bad type", {**link_args, "ResourceTypes": ["AWS::Nope"]}, "InvalidParameterException")])["Arn"]
    missing_link = f"arn:aws:oam:us-east-1:{SEARCH}:link/00000000-0000-0000-0000-000000000000"
    walk(source, "oam", "GetLink", [("ok", {"Identifier": link, "IncludeTags": True}, "ok"),
                                    ("missing", {"Identifier": missing_link}, "ResourceNotFoundException")])
    walk(source, "oam", "UpdateLink", [("ok", {"Identifier": link, "ResourceTypes": [METRIC]}, "ok"),
                                       ("missing", {"Identifier": missing_link, "ResourceTypes": [METRIC]},
                                        "ResourceNotFoundException")])
    walk(source, "oam", "ListLinks", [("ok", {}, "ok"), ("too many", {"MaxResults": 6}, "InvalidParameterException")])
    walk(oam, "oam", "ListAttachedLinks", [("ok", {"SinkIdentifier": sink}, "ok"),
                                           ("missing", {"SinkIdentifier": missing_sink}, "ResourceNotFoundException")])
    walk(oam, "oam", "DeleteSink", [("links attached", {"Identifier": sink}, "ConflictException")], faults=False)
    query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": "AWS/Bedrock", "MetricName": "Invocations",
                                                  "Dimensions": [{"Name": "ModelId", "Value": "x"}]},
                                       "Period": 60, "Stat": "Sum"}}
    span = {"StartTime": datetime(2026, 1, 1), "EndTime": datetime(2026, 1, 2)}
    walk(monitoring["cloudwatch"], "cloudwatch", "GetMetricData", [
        ("linked", {"MetricDataQueries": [{**query, "AccountId": SEARCH}], **span}, "ok"),
        ("not linked", {"MetricDataQueries": [{**query, "AccountId": PAYMENTS}], **span}, "ok")])
    walk(monitoring["cloudwatch"], "cloudwatch", "ListMetrics", [
        ("linked", {"IncludeLinkedAccounts": True}, "ok"),
        ("one owner", {"IncludeLinkedAccounts": True, "OwningAccount": SEARCH}, "ok")])
    walk(source, "oam", "DeleteLink", [("ok", {"Identifier": link}, "ok"),
                                       ("missing", {"Identifier": link}, "ResourceNotFoundException")])
    walk(oam, "oam", "DeleteSink", [("ok", {"Identifier": sink}, "ok"),
                                    ("missing", {"Identifier": sink}, "ResourceNotFoundException")])
    yield results
    thread.stop()


def test_every_oam_and_cross_account_answer_matches_the_model(walked):
    problems = problems_of(walked)
    assert not problems, "\n".join(problems)


def test_the_walk_covers_every_oam_operation(walked):
    assert {o for s, o, *_ in walked if s == "oam"} == set(_model("oam").operation_names)


def test_cross_account_answers_say_forbidden_or_complete(walked):
    """The two GetMetricData answers decoded by botocore's parser for the protocol answered: linked Complete,
    not linked Forbidden."""
    from botocore.parsers import create_parser

    model = _model("cloudwatch")
    op = model.operation_model("GetMetricData")
    codes = []
    for service, operation, label, _, answer in walked:
        if (service, operation) == ("cloudwatch", "GetMetricData") and not label.startswith("fault"):
            cbor = "cbor" in {k.lower(): v for k, v in answer["headers"].items()}.get("content-type", "")
            parsed = create_parser("smithy-rpc-v2-cbor" if cbor else "json").parse(
                {"status_code": answer["status"], "headers": answer["headers"], "body": answer["body"]},
                op.output_shape)
            codes.append((label, parsed["MetricDataResults"][0]["StatusCode"]))
    assert codes == [("linked", "Complete"), ("not linked", "Forbidden")]
