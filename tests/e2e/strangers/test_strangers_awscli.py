"""The AWS CLI (v1, in a venv of its own: see conftest.py) against the sandbox, as a user types it with AWS_ENDPOINT_URL set.

The CLI v1 has no event-stream commands (no ``converse-stream``): streaming is covered by the JavaScript SDK
and langchain-aws. Here: Converse at every tier, CountTokens, and a batch job whose input goes up with
``aws s3 cp`` and whose output comes down with ``aws s3 cp`` (which reads ``ContentLength`` from HeadObject)."""
from __future__ import annotations

import json

NOVA = "amazon.nova-lite-v1:0"
MESSAGES = json.dumps([{"role": "user", "content": [{"text": "Hello from the AWS CLI"}]}])


def test_converse_at_every_tier(aws, stranger_sandbox, tier_cases):
    for model, tier, expected in tier_cases:
        args = ["bedrock-runtime", "converse", "--model-id", model, "--messages", MESSAGES,
                "--inference-config", "maxTokens=32"]
        if tier:
            args += ["--service-tier", f"type={tier}"]
        proc = aws(stranger_sandbox.endpoint, *args)
        if expected.startswith("!"):
            assert proc.returncode != 0, (model, tier, proc.stdout)
            assert f"({expected[1:]})" in proc.stderr, (model, tier, proc.stderr)
            continue
        assert proc.returncode == 0, (model, tier, proc.stderr)
        out = json.loads(proc.stdout)
        assert out["serviceTier"] == {"type": expected}, (model, tier, out)
        assert out["output"]["message"]["content"][0]["text"].startswith("SANDBOX"), out


def test_count_tokens(aws, stranger_sandbox):
    body = json.dumps({"converse": {"messages": [{"role": "user", "content": [{"text": "x" * 400}]}]}})
    proc = aws(stranger_sandbox.endpoint, "bedrock-runtime", "count-tokens", "--model-id", NOVA, "--input", body)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert json.loads(proc.stdout) == {"inputTokens": 100}


def _wait_for_job(aws, endpoint: str, arn: str, timeout: float = 60.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        proc = aws(endpoint, "bedrock", "get-model-invocation-job", "--job-identifier", arn)
        assert proc.returncode == 0, proc.stderr
        job = json.loads(proc.stdout)
        if job["status"] in ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired") \
                or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def test_batch_job_with_s3_cp_up_and_down(aws, stranger_sandbox, batch_job, check_batch, tmp_path):
    endpoint, bucket = stranger_sandbox.endpoint, batch_job["bucket"]
    local = tmp_path / "records.jsonl"
    local.write_text("\n".join(batch_job["lines"]) + "\n")
    up = aws(endpoint, "s3", "cp", str(local), f"s3://{bucket}/cli/in/records.jsonl")
    assert up.returncode == 0, up.stderr
    created = aws(endpoint, "bedrock", "create-model-invocation-job", "--job-name", "cli-batch",
                  "--role-arn", batch_job["roleArn"], "--model-id", batch_job["modelId"],
                  "--input-data-config", json.dumps({"s3InputDataConfig": {
                      "s3Uri": f"s3://{bucket}/cli/in/records.jsonl", "s3InputFormat": "JSONL"}}),
                  "--output-data-config", json.dumps({"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/cli/out/"}}))
    assert created.returncode == 0, created.stderr
    job = _wait_for_job(aws, endpoint, json.loads(created.stdout)["jobArn"])
    assert job["status"] == "Completed", job

    down = aws(endpoint, "s3", "cp", f"s3://{bucket}/cli/out/", str(tmp_path / "out"), "--recursive")
    assert down.returncode == 0, down.stderr
    files = {str(p.relative_to(tmp_path / "out")): p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    check_batch({f"cli/out/{k}": v for k, v in files.items()}, batch_job["lines"], "cli/out/")

    key = next(f"cli/out/{k}" for k in files if k.endswith(".jsonl.out"))
    one = aws(endpoint, "s3", "cp", f"s3://{bucket}/{key}", str(tmp_path / "one.jsonl.out"))  # HeadObject first
    assert one.returncode == 0, one.stderr
    assert (tmp_path / "one.jsonl.out").read_text() == files[key.removeprefix("cli/out/")]
    head = aws(endpoint, "s3api", "head-object", "--bucket", bucket, "--key", key)
    assert head.returncode == 0, head.stderr
    size = len(files[key.removeprefix("cli/out/")].encode())
    assert json.loads(head.stdout)["ContentLength"] == size
    ranged = aws(endpoint, "s3api", "get-object", "--bucket", bucket, "--key", key, "--range", "bytes=0-9",
                 str(tmp_path / "first10"))
    assert ranged.returncode == 0, ranged.stderr
    meta = json.loads(ranged.stdout)
    assert meta["ContentLength"] == 10 and meta["ContentRange"] == f"bytes 0-9/{size}", meta
    assert (tmp_path / "first10").read_bytes() == files[key.removeprefix("cli/out/")].encode()[:10]


def test_s3_configuration_s3_refuses_gets_s3s_error_and_is_not_stored(aws, stranger_sandbox):
    """newcomer-3 F-d/F-n: moto stored these as given (and answered a valid canned ACL a plain-text 411)."""
    endpoint, bucket = stranger_sandbox.endpoint, stranger_sandbox.config.bucket
    refused = [
        (["s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Maybe"],
         "MalformedXML"),
        (["s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration",
          json.dumps({"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""},
                                 "Expiration": {"Days": -5}}]})], "InvalidArgument"),
        (["s3api", "create-bucket", "--bucket", "cli-mars-bucket", "--create-bucket-configuration",
          "LocationConstraint=mars-1"], "InvalidLocationConstraint"),
        (["s3api", "put-bucket-acl", "--bucket", bucket, "--acl", "nonsense"], "InvalidArgument"),
    ]
    for args, code in refused:
        proc = aws(endpoint, *args)
        assert proc.returncode != 0 and f"({code})" in proc.stderr, (args, proc.stdout, proc.stderr)
    versioning = aws(endpoint, "s3api", "get-bucket-versioning", "--bucket", bucket)
    assert versioning.returncode == 0 and "Maybe" not in versioning.stdout, versioning.stdout
    listed = aws(endpoint, "s3api", "list-buckets")
    assert "cli-mars-bucket" not in listed.stdout
    ok = aws(endpoint, "s3api", "put-bucket-acl", "--bucket", bucket, "--acl", "private")
    assert ok.returncode == 0, ok.stderr
