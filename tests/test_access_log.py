"""The sandbox's access log: one JSON line per request, set by flag or by the profile's sandbox section."""
from __future__ import annotations

import json

import botocore.exceptions
import pytest
import yaml

from tierconsole.sandbox.config import parse_sandbox_config
from tests.conftest import NOVA, SONNET, boto3_client, user


def test_profile_setting_turns_on_the_access_log_for_an_in_process_sandbox(make_sandbox, tmp_path):
    doc = yaml.safe_load(open("profiles/sandbox.yaml"))
    log = tmp_path / "access.jsonl"
    doc["sandbox"]["access_log"] = str(log)
    sb = make_sandbox(parse_sandbox_config(doc, "test.yaml"), speed=50.0)
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    rt.converse(modelId=NOVA, messages=user("logged"), serviceTier={"type": "flex"})
    rt.converse(modelId=SONNET, messages=user("logged"), serviceTier={"type": "reserved"},
                inferenceConfig={"maxTokens": 20})
    with pytest.raises(botocore.exceptions.ClientError):
        rt.converse(modelId=NOVA, messages=user("x"), serviceTier={"type": "reserved"})
    boto3_client("sts", sb.endpoint).get_caller_identity()
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["service"], e["operation"], e["model"], e["tier_asked"], e["tier_served"], e["status"], e["error"])
            for e in entries] == [
        ("bedrock", "Converse", NOVA, "flex", "flex", 200, None),
        ("bedrock", "Converse", SONNET, "reserved", "reserved", 200, None),
        ("bedrock", "Converse", NOVA, "reserved", None, 400, "ValidationException"),
        ("sts", "GetCallerIdentity", None, None, None, 200, None),
    ]
    assert all(e["latency_ms"] >= 0 and e["time"] > 0 and e["request_id"] for e in entries)
    assert "sandbox" not in log.read_text().replace("tierconsole-sandbox", "")  # no credentials either
