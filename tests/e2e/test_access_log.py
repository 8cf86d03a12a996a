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


def _metric_sums(sb, model: str, metrics: tuple[str, ...]) -> dict[str, float]:
    """What the sandbox's CloudWatch says for ``model`` over the last hour (read through boto3)."""
    from datetime import datetime, timedelta, timezone
    sb.call(sb.sandbox.metrics.flush)
    cw = boto3_client("cloudwatch", sb.endpoint)
    now = datetime.fromtimestamp(sb.sandbox.clock.now(), timezone.utc)
    queries = [{"Id": f"m{i}", "MetricStat": {"Metric": {"Namespace": "AWS/Bedrock", "MetricName": name,
                                                         "Dimensions": [{"Name": "ModelId", "Value": model}]},
                                              "Period": 60, "Stat": "Sum"}} for i, name in enumerate(metrics)]
    out = cw.get_metric_data(MetricDataQueries=queries, StartTime=now - timedelta(hours=1),
                             EndTime=now + timedelta(minutes=5))["MetricDataResults"]
    return {metrics[int(r["Id"][1:])]: sum(r["Values"]) for r in out}


def _wait_for_lines(log, n: int, timeout: float = 10.0) -> list[dict]:
    import time
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
        if len(lines) >= n or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


COUNTED = ("Invocations", "InvocationClientErrors", "InvocationServerErrors", "InvocationThrottles")


def test_a_stream_the_client_cuts_is_logged_as_what_the_metrics_count(make_sandbox, tmp_path):
    """The client reads the first events of a ConverseStream and hangs up: the access log and CloudWatch agree."""
    import http.client
    from urllib.parse import urlsplit

    log = tmp_path / "access.jsonl"
    sb = make_sandbox(speed=1.0, access_log=log)
    host, port = urlsplit(sb.endpoint).hostname, urlsplit(sb.endpoint).port
    conn = http.client.HTTPConnection(host, port, timeout=10)
    body = json.dumps({"messages": user("a long answer please"), "inferenceConfig": {"maxTokens": 2000}})
    conn.request("POST", f"/model/{NOVA.replace(':', '%3A')}/converse-stream", body=body, headers={
        "Content-Type": "application/json",
        "Authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/bedrock/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read1(64)  # the stream has started
    conn.sock.close()  # the client goes away mid-answer
    conn.close()
    [entry] = _wait_for_lines(log, 1)
    outcome = sb.sandbox.outcomes.recent[-1]
    assert (outcome.status, outcome.error) == (499, "ClientClosedRequest")
    assert (entry["operation"], entry["status"], entry["error"]) == ("ConverseStream", 499, "ClientClosedRequest")
    sums = _metric_sums(sb, NOVA, COUNTED)
    assert sums == {"Invocations": 0, "InvocationClientErrors": 1, "InvocationServerErrors": 0,
                    "InvocationThrottles": 0}


def test_an_injected_stream_cut_is_logged_as_what_the_metrics_count(make_sandbox, tmp_path):
    log = tmp_path / "access.jsonl"
    sb = make_sandbox(speed=50.0, access_log=log, faults="cut#1:bedrock")
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    with pytest.raises(Exception):  # noqa: B017 - botocore's error for a dropped stream varies by version
        for _event in rt.converse_stream(modelId=NOVA, messages=user("cut me"),
                                         inferenceConfig={"maxTokens": 200})["stream"]:
            pass
    [entry] = _wait_for_lines(log, 1)
    assert (entry["status"], entry["error"]) == (499, "InjectedStreamCut")
    assert _metric_sums(sb, NOVA, COUNTED) == {"Invocations": 0, "InvocationClientErrors": 1,
                                               "InvocationServerErrors": 0, "InvocationThrottles": 0}


def test_the_access_log_rotates_at_its_size_and_keeps_the_configured_files_0600(make_sandbox, tmp_path):
    """It grew for ever; now at ``access_log_max_bytes`` it is renamed ``.1`` (``.1`` to ``.2``, ...) and a new one
    begins; ``access_log_backups`` files are kept, the oldest dropped, every one 0600."""
    import os
    import stat

    doc = yaml.safe_load(open("profiles/sandbox.yaml"))
    log = tmp_path / "access.jsonl"
    doc["sandbox"].update(access_log=str(log), access_log_max_bytes=4096, access_log_backups=2)
    sb = make_sandbox(parse_sandbox_config(doc, "test.yaml"), speed=50.0)
    sts = boto3_client("sts", sb.endpoint)
    for _ in range(120):  # about 300 bytes a line: ~36 KB in all, nine files' worth
        sts.get_caller_identity()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["access.jsonl", "access.jsonl.1", "access.jsonl.2"]
    kept = []
    for name in ("access.jsonl.2", "access.jsonl.1", "access.jsonl"):
        path = tmp_path / name
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name
        assert path.stat().st_size <= 4096, (name, path.stat().st_size)
        kept += [json.loads(line) for line in path.read_text().splitlines()]  # whole lines only
    assert 20 < len(kept) < 120 and all(e["operation"] == "GetCallerIdentity" for e in kept)
    times = [e["time"] for e in kept]
    assert times == sorted(times)  # the newest in the file itself, older ones in .1 then .2


@pytest.mark.parametrize("key, value, needle", [
    ("access_log_max_bytes", 10, "at least"), ("access_log_max_bytes", "big", "int"),
    ("access_log_backups", 0, "at least 1"), ("access_log_backups", 10**6, "at most")])
def test_bad_rotation_settings_are_refused_naming_them(key, value, needle):
    from tierconsole.core.domain.catalog import ConfigError

    doc = yaml.safe_load(open("profiles/sandbox.yaml"))
    doc["sandbox"][key] = value
    with pytest.raises(ConfigError) as err:
        parse_sandbox_config(doc, "test.yaml")
    assert f"sandbox.{key}" in str(err.value) and needle in str(err.value)
