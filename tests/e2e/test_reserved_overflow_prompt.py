"""newcomer-2 #5: a reserved prompt that overflowed to Standard must say so, from the response's served tier, and
name the reservation's input/output TPM (the CLI's text and --json). Real CLI process against a sandbox on loopback."""
from __future__ import annotations

import json

from tests.conftest import SONNET, boto3_client, user
from tests.e2e.test_headless import cli, env  # noqa: F401 - fixtures


def fill_the_reservation(endpoint: str) -> None:
    rt = boto3_client("bedrock-runtime", endpoint)
    r = rt.converse(modelId=SONNET, messages=user("x" * (4 * 99_990)), inferenceConfig={"maxTokens": 10},
                    serviceTier={"type": "reserved"})
    assert r["serviceTier"]["type"] == "reserved", r["serviceTier"]


def test_an_overflowed_reserved_prompt_says_standard_served_it_and_why(make_sandbox, env, tmp_path):  # noqa: F811
    from tests.e2e.test_headless import cli_for

    sb = make_sandbox(speed=1.0)  # the 60-second window on the wall clock: still full when the CLI asks
    run = cli_for(sb, env, tmp_path)
    fill_the_reservation(sb.endpoint)
    text = "hello there " * 40
    out = run("prompt", text, "--model", SONNET, "--tier", "reserved", "--max-tokens", "20", "--json")
    assert out.returncode == 0, out.stderr
    [row] = [json.loads(line) for line in out.stdout.splitlines()]
    assert row["served_tier"] == "default"
    note = row["note"]
    assert "Standard" in note and "reservation" in note and "100,000 input" in note and "10,000 output" in note, note
    out = run("prompt", text, "--model", SONNET, "--tier", "reserved", "--max-tokens", "20")
    assert out.returncode == 0, out.stderr
    said = out.stdout + out.stderr  # one tier: the answer on stdout, its table on stderr
    assert "served by Standard" in said and "100,000 input" in said, said
