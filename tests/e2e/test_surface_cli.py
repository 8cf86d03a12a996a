"""What the headless commands say to people: tier names, costs, plurals, tables, thresholds (issue 11).

End-to-end: real processes against a sandbox on loopback, plus the formatting functions on fixed data.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import NOVA, SONNET, aio_client, clear_of_minute_end, user
from tests.e2e.test_headless import batch_file, cli, cli_for, env  # noqa: F401 - fixtures
from tierconsole.core.ops.prompt import PromptResult
from tierconsole.present.prompt import format_results
from tierconsole.present.status import format_status

CLI = [sys.executable, "-m", "tierconsole.cli"]
WORD_DEFAULT = re.compile(r"\bdefault\b")


# ------------------------------------------------------------------ prompt


def test_prompt_json_keeps_wire_tiers_adds_labels_and_rounds_times(cli):
    out = cli("prompt", "compare the tiers", "--model", SONNET, "--tier", "all", "--max-tokens", "20", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["tier"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert set(rows) == {"reserved", "priority", "default", "flex"}  # wire values, as Bedrock says them
    assert rows["default"]["tier_label"] == "Standard" and rows["default"]["served_tier_label"] == "Standard"
    assert rows["priority"]["tier_label"] == "Priority" and rows["reserved"]["served_tier_label"] == "Reserved"
    for r in rows.values():
        for key in ("latency_ms", "ttft_ms", "output_tps"):
            if r[key] is not None:
                assert r[key] == round(r[key], 1), (key, r[key])


def test_prompt_table_says_standard_and_never_shows_zero_dollars(cli):
    out = cli("prompt", "compare the tiers", "--model", SONNET, "--tier", "all", "--max-tokens", "20")
    assert out.returncode == 0, out.stderr
    table = out.stdout
    assert "Standard" in table and not WORD_DEFAULT.search(table), table
    assert "0.000000" not in table, table
    reserved = next(line for line in table.splitlines() if line.startswith("Reserved"))
    assert "in reservation" in reserved, reserved


def test_an_unknown_price_is_shown_as_unknown():
    unpriced = PromptResult(tier="default", served_tier="default", ok=True, latency_ms=812.4, input_tokens=9,
                            output_tokens=20, cost_usd=None)
    line = format_results([unpriced]).splitlines()[1]
    assert line.startswith("Standard  Standard") and "unknown" in line, line
    tiny = PromptResult(tier="flex", served_tier="flex", ok=True, latency_ms=10.0, input_tokens=1, output_tokens=1,
                        cost_usd=1e-9)
    assert "<0.000001" in format_results([tiny]), format_results([tiny])


# ------------------------------------------------------------------ status


def status_doc(**over) -> dict:
    doc = {"profile": "sandbox", "account_id": "123456789012", "region": "us-east-1", "endpoint": None,
           "reservations": [],
           "quotas": [{"model_id": NOVA, "name": "Amazon Nova Lite", "tpm_quota": 120000.0, "rpm_quota": 300.0,
                       "tpm_by_tier": {"priority": 100, "default": 99_000, "flex": 0}, "tpm_used": 99_100,
                       "tpm_fraction": 0.8258, "rpm_used": 3, "rpm_fraction": 0.01}],
           "throttles": {"last_5m": {NOVA: {"default": 1}}, "last_60m": {NOVA: {"default": 4, "flex": 1}}},
           "batch_jobs": [], "stale": {}}
    doc.update(over)
    return doc


def test_status_text_says_standard_and_marks_quotas_over_the_threshold():
    text = format_status(status_doc(), alert_threshold=0.8)
    assert "Standard 99,000" in text and "Standard 1/4" in text and not WORD_DEFAULT.search(text), text
    nova = next(line for line in text.splitlines() if NOVA in line and "RPM" in line)
    assert "▲" in nova, nova
    calm = format_status(status_doc(), alert_threshold=0.9)
    assert "▲" not in calm
    assert "1 quota over 80%" in text and "0 quotas over 90%" in calm


def status(endpoint, tmp_path, *args):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "st"))
    env.pop("TIERCONSOLE_PROFILE", None)
    return subprocess.run([*CLI, "status", "--endpoint-url", endpoint, *args], capture_output=True, text=True,
                          timeout=90, env=env, cwd=tmp_path)


def write_profile(tmp_path: Path, name: str, threshold: float) -> None:
    doc = yaml.safe_load((Path(__file__).resolve().parents[2] / "profiles" / "sandbox.yaml").read_text())
    doc.update(name=name, alert_threshold=threshold)
    folder = tmp_path / "cfg" / "tierconsole" / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc))


async def test_fail_over_without_a_value_uses_the_profiles_alert_threshold(make_sandbox, tmp_path):
    sb = make_sandbox(speed=1.0)  # metrics on the wall clock, as a separate status process reads them
    clear_of_minute_end()
    async with aio_client("bedrock-runtime", sb.endpoint) as c:
        await c.converse(modelId=NOVA, messages=user("y" * 20_000), inferenceConfig={"maxTokens": 2000})
    await asyncio.sleep(1.5)  # the metrics publisher flushes once a second
    write_profile(tmp_path, "touchy", 0.01)  # 7k of Nova's 120k TPM is over 1%
    write_profile(tmp_path, "calm", 0.99)
    over = status(sb.endpoint, tmp_path, "--profile", "touchy", "--fail-over")
    assert over.returncode == 3, over.stderr
    assert "alert_threshold" in over.stderr and "1%" in over.stderr and NOVA in over.stderr
    assert status(sb.endpoint, tmp_path, "--profile", "calm", "--fail-over").returncode == 0
    # Without --fail-over, status never fails on use (cron jobs written for it keep working).
    assert status(sb.endpoint, tmp_path, "--profile", "touchy").returncode == 0
    # A value still wins over the profile.
    assert status(sb.endpoint, tmp_path, "--profile", "touchy", "--fail-over", "0.99").returncode == 0


# ------------------------------------------------------------------ batch show


def test_batch_show_prints_a_readable_table_and_json_with_json(cli, tmp_path):
    f = batch_file(tmp_path / "in.jsonl", n=110)
    job = json.loads(cli("batch", "submit", str(f), "--model", NOVA, "--name", "show-1", "--json").stdout)
    shown = json.loads(cli("batch", "show", job["jobArn"], "--json").stdout)
    assert shown["jobArn"] == job["jobArn"]
    out = cli("batch", "show", job["jobArn"])
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "{" not in text and "'" not in text, text  # no Python dict reprs
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in text.splitlines() if line.strip())
    assert rows["name"] == "show-1" and rows["job"] == job["jobArn"] and rows["model"] == NOVA
    assert rows["input"] == "s3://tierconsole-sandbox/input/show-1/in.jsonl"
    assert rows["output"].startswith("s3://tierconsole-sandbox/") and rows["status"] in (
        "Submitted", "Validating", "Scheduled", "InProgress", "Completed")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", rows["submitted"]), rows["submitted"]
    assert re.match(r"[\d,]+ of 110 processed", rows["records"]), rows["records"]


def test_a_tier_with_no_multiplier_has_no_price_rather_than_standards():
    from tierconsole.core.domain.pricing import PriceTable

    prices = PriceTable.from_profile()
    assert prices.cost(NOVA, "default", 1000, 1000) > 0
    assert prices.cost(NOVA, "turbo", 1000, 1000) is None  # an unknown tier is not priced as Standard
    assert prices.cost("acme.unknown-model-v1:0", "default", 1000, 1000) is None
