"""`tierconsole status`: one collection, printed; --fail-over exit codes for cron and health checks."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from tests.conftest import NOVA, aio_client, clear_of_minute_end, user

CLI = [sys.executable, "-m", "tierconsole.cli"]


def status(endpoint, tmp_path, *args):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "st"))
    return subprocess.run([*CLI, "status", "--endpoint-url", endpoint, *args], capture_output=True, text=True,
                          timeout=90, env=env, cwd=tmp_path)


async def burst(endpoint: str) -> list[str]:
    async with aio_client("bedrock-runtime", endpoint) as c:
        async def one():
            try:
                r = await c.converse(modelId=NOVA, messages=user("y" * 20_000), inferenceConfig={"maxTokens": 2000})
                return r["serviceTier"]["type"]
            except Exception as e:  # noqa: BLE001
                return e.response["Error"]["Code"]
        return await asyncio.gather(*(one() for _ in range(30)))


async def test_status_reports_use_and_throttles_and_fail_over(make_sandbox, tmp_path):
    sb = make_sandbox(speed=1.0)  # metrics on the wall clock, as a separate status process reads them
    clear_of_minute_end()
    results = await burst(sb.endpoint)
    assert "ThrottlingException" in results and "default" in results
    await asyncio.sleep(1.5)  # the metrics publisher flushes once a second
    out = status(sb.endpoint, tmp_path, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    nova = next(q for q in doc["quotas"] if q["model_id"] == NOVA)
    ok = results.count("default")
    assert nova["rpm_used"] == ok
    assert nova["tpm_by_tier"]["default"] > 0 and nova["tpm_quota"] == 120_000
    assert doc["throttles"]["last_5m"][NOVA]["default"] == results.count("ThrottlingException")
    assert doc["throttles"]["last_60m"][NOVA]["default"] == results.count("ThrottlingException")
    assert doc["account_id"] == "123456789012" and doc["reservations"][0]["input_tpm_reserved"] == 100_000
    over = status(sb.endpoint, tmp_path, "--fail-over", str(nova["tpm_fraction"] / 2))
    assert over.returncode == 3 and NOVA in over.stderr
    assert status(sb.endpoint, tmp_path, "--fail-over", "0.99").returncode == 0
    assert status(sb.endpoint, tmp_path, "--fail-over", "-1").returncode == 2


def test_status_with_endpoint_down_fails_clearly(tmp_path):
    out = status("http://127.0.0.1:9", tmp_path, "--json")
    assert out.returncode == 1
    assert "endpoint down" in out.stderr and "Traceback" not in out.stderr
