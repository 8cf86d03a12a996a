"""``tierconsole plan`` end to end: history written into a sandbox's CloudWatch, the command as a process."""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone

import numpy as np
import pytest

from tests.conftest import GPT, NOVA, aio_client

TIERS = ("priority", "default", "flex")
METRICS = {"input": "InputTokenCount", "cache_write": "CacheWriteInputTokenCount", "output": "OutputTokenCount",
           "invocations": "Invocations", "throttles": "InvocationThrottles"}
NOVA_PRICE = (0.00006, 0.00024)  # built-in list price per 1K tokens
ACTIVE = 120  # minutes of traffic written


def _entry() -> list[str]:
    """``tierconsole.cli`` once it has the plan subcommand, else the module's own entry point."""
    from tierconsole.cli.main import build_parser

    with contextlib.redirect_stderr(io.StringIO()):
        try:
            build_parser().parse_args(["plan", "--model", "x"])
            return [sys.executable, "-m", "tierconsole.cli"]
        except SystemExit:
            return [sys.executable, "-m", "tierconsole.cli"]


CLI = _entry()


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "state"),
             XDG_DATA_HOME=str(tmp_path / "data"))
    e.pop("TIERCONSOLE_PROFILE", None)
    return e


def run(env, cwd, *args):
    return subprocess.run([*CLI, "plan", *args], capture_output=True, text=True, timeout=90, env=env, cwd=cwd)


def backend_of(sandbox):
    from tierconsole.sandbox.services.moto_bridge import cloudwatch_backend

    return cloudwatch_backend(sandbox.sandbox.config.account_id, sandbox.sandbox.config.region)


def write(sandbox, model: str, first_minute: int, values: dict[str | None, dict[str, np.ndarray]]) -> None:
    """Per-minute sums into the sandbox's CloudWatch (tier None: the {ModelId} series only)."""
    data = []
    for tier, fields in values.items():
        dims = [{"Name": "ModelId", "Value": model}] + ([{"Name": "ServiceTier", "Value": tier}] if tier else [])
        for field, arr in fields.items():
            for k, v in enumerate(arr):
                if v:
                    data.append({"MetricName": METRICS[field], "Dimensions": dims, "Unit": "Count", "Value": float(v),
                                 "Timestamp": datetime.fromtimestamp(first_minute + 60 * k, timezone.utc)
                                 .replace(tzinfo=None)})
    backend_of(sandbox).put_metric_data("AWS/Bedrock", data)


def generated(seed: int, tiers=TIERS) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = {}
    for tier in tiers:
        out[tier] = {"input": rng.integers(0, 60_000, ACTIVE), "cache_write": rng.integers(0, 4_000, ACTIVE),
                     "output": rng.integers(0, 7_000, ACTIVE), "invocations": rng.integers(1, 30, ACTIVE),
                     "throttles": (rng.random(ACTIVE) < 0.1).astype(int)}
    return out


def padded(arr: np.ndarray, minutes: int) -> np.ndarray:
    """The window as the planner sees it: the active minutes plus idle zeros."""
    return np.concatenate([arr.astype(float), np.zeros(minutes - len(arr))])


def recent_first_minute() -> int:
    """Traffic from 130 to 10 minutes ago: inside a one-day window however long the test takes."""
    return math.floor(time.time() / 60) * 60 - (ACTIVE + 10) * 60


def test_plan_json_field_by_field(sandbox, env, tmp_path):
    vals = generated(1)
    write(sandbox, NOVA, recent_first_minute(), vals)
    out = run(env, tmp_path, "--model", NOVA, "--days", "1", "--percentile", "90", "--json",
              "--endpoint-url", sandbox.endpoint, "--profile", "sandbox")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    n = 1440
    assert doc["model_id"] == NOVA and doc["minutes"] == n and doc["tier_split"] is True
    assert doc["history"]["tiers"] == list(TIERS) and doc["history"]["tier_split"] is True
    assert doc["history"]["get_metric_data_calls"] >= 1 and doc["history"]["period_seconds"] == 60
    assert doc["profile"] == {"name": "sandbox", "region": "us-east-1"}
    assert datetime.fromisoformat(doc["end"]) - datetime.fromisoformat(doc["start"]) == \
        datetime.fromtimestamp(86_400) - datetime.fromtimestamp(0)

    # stats, per tier and all, against numpy over the minutes with traffic (the rule: idle minutes left out)
    by = {s["tier"]: s for s in doc["tiers"]}
    assert list(by) == list(TIERS)
    all_in = sum(padded(v["input"] + v["cache_write"], n) for v in vals.values())
    all_out = sum(padded(v["output"], n) for v in vals.values())
    busy_in, busy_out = all_in[:ACTIVE], all_out[:ACTIVE]  # every generated minute has invocations
    for tier, v in vals.items():
        s = by[tier]
        inp, outp = padded(v["input"] + v["cache_write"], n), padded(v["output"], n)
        for q in (50, 90, 99):
            assert s["input_tpm"][f"p{q}"] == pytest.approx(np.percentile(inp[:ACTIVE], q, method="linear"))
            assert s["output_tpm"][f"p{q}"] == pytest.approx(np.percentile(outp[:ACTIVE], q, method="linear"))
        assert s["input_tpm"]["max"] == inp.max() and s["output_tpm"]["max"] == outp.max()
        assert s["input_tokens"] == v["input"].sum() and s["cache_write_tokens"] == v["cache_write"].sum()
        assert s["output_tokens"] == v["output"].sum() and s["invocations"] == v["invocations"].sum()
        assert s["throttles"] == v["throttles"].sum() and s["throttled_minutes"] == int((v["throttles"] > 0).sum())
        assert s["active_minutes"] == ACTIVE
        assert s["token_share"] == pytest.approx((inp.sum() + outp.sum()) / (all_in.sum() + all_out.sum()))
    a = doc["all"]
    for q in (50, 90, 99):
        assert a["input_tpm"][f"p{q}"] == pytest.approx(np.percentile(busy_in, q, method="linear"))
        assert a["output_tpm"][f"p{q}"] == pytest.approx(np.percentile(busy_out, q, method="linear"))
    assert a["input_tpm"]["max"] == all_in.max() and a["active_minutes"] == ACTIVE

    # recommendation: P90 of the busy minutes (over the whole mostly idle day it would be 0)
    r = doc["recommendation"]
    assert r["percentile"] == 90 and r["input_tpm_at_percentile"] == pytest.approx(np.percentile(busy_in, 90))
    assert np.percentile(all_in, 90) == 0
    assert r["input_tpm"] == max(100_000, math.ceil(np.percentile(busy_in, 90) / 10_000) * 10_000)
    assert r["output_tpm"] == max(10_000, math.ceil(np.percentile(busy_out, 90) / 1_000) * 1_000)
    assert r["minutes_over_input"] == int((all_in > r["input_tpm"]).sum())
    assert r["current_input_tpm"] is None  # the sandbox profile reserves Sonnet, not Nova

    # costs by hand from the built-in Nova Lite price, scaled by 43,800 / 1,440
    costs = {c["key"]: c for c in doc["costs"]}
    assert list(costs) == ["reserved", "standard", "priority", "flex", "batch", "current"]
    scale = 43_800 / n
    std = (all_in.sum() * NOVA_PRICE[0] + all_out.sum() * NOVA_PRICE[1]) / 1000 * scale
    assert costs["standard"]["monthly_usd"] == pytest.approx(std)
    assert costs["priority"]["monthly_usd"] == pytest.approx(std * 1.75)
    assert costs["flex"]["monthly_usd"] == pytest.approx(std * 0.5)
    assert costs["batch"]["monthly_usd"] == pytest.approx(std * 0.5)
    cur = sum((padded(v["input"] + v["cache_write"], n).sum() * NOVA_PRICE[0] + v["output"].sum() * NOVA_PRICE[1])
              / 1000 * {"priority": 1.75, "default": 1.0, "flex": 0.5}[t] for t, v in vals.items()) * scale
    assert costs["current"]["monthly_usd"] == pytest.approx(cur)
    over = (np.maximum(all_in - r["input_tpm"], 0).sum() * NOVA_PRICE[0]
            + np.maximum(all_out - r["output_tpm"], 0).sum() * NOVA_PRICE[1]) / 1000 * scale
    assert costs["reserved"]["components"]["overflow_usd"] == pytest.approx(over)
    # no reservation price anywhere: said, not invented
    assert costs["reserved"]["monthly_usd"] is None
    assert costs["reserved"]["note"] == "reservation price unknown — enter your contract's figure"

    # assumptions, as data
    assumptions = {x["key"]: x for x in doc["assumptions"]}
    assert assumptions["percentile"]["value"] == 90
    assert assumptions["percentile_method"]["value"] == "linear"
    assert assumptions["minutes_per_month"]["value"] == 43_800
    assert assumptions["window_minutes"]["value"] == n
    assert assumptions["prices"]["value"] == {"input_per_1k": NOVA_PRICE[0], "output_per_1k": NOVA_PRICE[1]}
    assert assumptions["prices"]["source"].startswith("built-in list price table")
    assert assumptions["multipliers"]["value"] == {"priority": 1.75, "default": 1.0, "flex": 0.5, "batch": 0.5}
    assert assumptions["overflow_billing"]["value"] == "default"
    assert assumptions["reservation_price"]["value"] is None
    assert any("throttle" in note for note in doc["notes"])

    # spend now (the last hour's rates) and the what-ifs: the same use case as the plan screen, adding up
    now = doc["spend_now"]
    spends = {x["tier"]: x for x in now["spends"]}
    assert list(spends) == list(TIERS) and now["minutes"] == 60
    assert now["total_per_hour"] == pytest.approx(sum(x["usd_per_hour"] for x in spends.values()))
    for move in now["moves"]:
        assert move["usd_per_hour_before"] == pytest.approx(spends["default"]["usd_per_hour"])
        assert move["usd_per_hour_after"] == pytest.approx(move["usd_per_hour_before"] - move["saving_per_hour"])


def test_plan_with_contract_price_p99_and_30_day_month(sandbox, env, tmp_path):
    vals = generated(2)
    write(sandbox, NOVA, recent_first_minute(), vals)
    out = run(env, tmp_path, "--model", NOVA, "--days", "1", "--percentile", "99.5", "--reservation-price", "0.75",
              "--month", "30d", "--json", "--endpoint-url", sandbox.endpoint, "--profile", "sandbox")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    n = 1440
    all_in = sum(padded(v["input"] + v["cache_write"], n) for v in vals.values())
    all_out = sum(padded(v["output"], n) for v in vals.values())
    r = doc["recommendation"]
    p_in, p_out = np.percentile(all_in[:ACTIVE], 99.5), np.percentile(all_out[:ACTIVE], 99.5)
    assert r["input_tpm_at_percentile"] == pytest.approx(p_in)
    assert r["input_tpm"] == max(100_000, math.ceil(p_in / 10_000) * 10_000)
    assert r["output_tpm"] == max(10_000, math.ceil(p_out / 1_000) * 1_000)
    res = next(c for c in doc["costs"] if c["key"] == "reserved")
    fixed = (r["input_tpm"] + r["output_tpm"]) / 1000 * 0.75
    over = (np.maximum(all_in - r["input_tpm"], 0).sum() * NOVA_PRICE[0]
            + np.maximum(all_out - r["output_tpm"], 0).sum() * NOVA_PRICE[1]) / 1000 * 43_200 / n
    assert res["components"]["reservation_usd"] == pytest.approx(fixed)
    assert res["monthly_usd"] == pytest.approx(fixed + over)
    std = next(c for c in doc["costs"] if c["key"] == "standard")["monthly_usd"]
    assert res["delta_vs_standard_usd"] == pytest.approx(fixed + over - std)
    assumptions = {x["key"]: x for x in doc["assumptions"]}
    assert assumptions["reservation_price"]["value"] == 0.75
    assert assumptions["reservation_price"]["source"].startswith("--reservation-price")
    assert assumptions["minutes_per_month"]["value"] == 43_200


def auto_profile(tmp_path) -> str:
    """The sandbox profile reading metrics as on an AWS account that may publish no per-tier series
    (``metrics.tier_form: auto``; the built-in one reads the form its own sandbox publishes)."""
    from importlib import resources

    folder = tmp_path / "cfg" / "tierconsole" / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    text = resources.files("tierconsole.profiles").joinpath("sandbox.yaml").read_text()
    (folder / "sandbox-auto.yaml").write_text(text.replace("name: sandbox\n", "name: sandbox-auto\n", 1)
                                              + "\nmetrics:\n  tier_form: auto\n")
    return "sandbox-auto"


def test_plan_falls_back_to_model_totals_and_prints_a_table(sandbox, env, tmp_path):
    vals = generated(3, tiers=("x",))["x"]
    write(sandbox, GPT, recent_first_minute(), {None: vals})
    profile = auto_profile(tmp_path)
    out = run(env, tmp_path, "--model", GPT, "--days", "1", "--json", "--endpoint-url", sandbox.endpoint,
              "--profile", profile)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["tier_split"] is False and doc["tiers"] == [] and doc["history"]["tiers"] == ["total"]
    assert doc["all"]["input_tokens"] == vals["input"].sum()
    assert doc["all"]["input_tpm"]["max"] == (vals["input"] + vals["cache_write"]).max()
    assert "current" not in {c["key"] for c in doc["costs"]}

    out = run(env, tmp_path, "--model", GPT, "--days", "1", "--endpoint-url", sandbox.endpoint, "--profile", profile)
    assert out.returncode == 0, out.stderr
    for heading in ("Per-minute TPM", "Reservation recommendation", "Monthly cost of the same traffic",
                    "Assumptions", "All Standard", "reservation price unknown", "percentile_method",
                    "model totals only", f"over the {ACTIVE} minutes with traffic (of 1,440)",
                    "Spend now", "$ per hour", "What if", "no per-tier split"):
        assert heading in out.stdout, heading
    # one money unit per table, with $: the monthly table in $ per month, spend now and what-ifs in $ per hour
    assert "$ per month" in out.stdout and "/h" not in out.stdout and "USD / hour" not in out.stdout


@pytest.mark.parametrize("args", [
    ["--days", "0"], ["--days", "15"], ["--days", "two"], ["--percentile", "0"], ["--percentile", "100.5"],
    ["--percentile", "ninety"], ["--reservation-price", "-1"], ["--reservation-price", "0"], ["--month", "31d"],
    ["--model", ""], ["--profile", "no-such-profile"], [],
])
def test_bad_arguments_exit_2(env, tmp_path, args):
    base = ["--model", NOVA] if "--model" not in args and args != [] else []
    out = run(env, tmp_path, *base, *args)
    assert out.returncode == 2, (args, out.stdout, out.stderr)
    assert "error" in out.stderr


def test_aws_error_exits_1_with_a_clear_message(env, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = run(env, tmp_path, "--model", NOVA, "--days", "1", "--endpoint-url", f"http://127.0.0.1:{port}",
              "--profile", "sandbox")
    assert out.returncode == 1
    assert "CloudWatch" in out.stderr and "endpoint down" in out.stderr


def test_plan_arguments_and_the_shared_options():
    from tierconsole.cli.main import build_parser

    args = build_parser().parse_args(["--read-only", "plan", "--model", NOVA, "--region", "us-west-2"])
    assert (args.command, args.days, args.percentile, args.month, args.json) == ("plan", 14, 90.0, "730h", False)
    assert args.read_only and args.region == "us-west-2" and args.profile is None and args.endpoint_url is None


# ---------------------------------------------------------------------- history fetching

async def test_fetch_history_chunks_under_the_datapoint_limit(sandbox):
    from tierconsole.core.aws.history import fetch_history

    vals = generated(4)
    first = recent_first_minute()
    write(sandbox, NOVA, first, vals)
    async with aio_client("cloudwatch", sandbox.endpoint) as cw:
        whole = await fetch_history(cw, NOVA, days=1)
        cut = await fetch_history(cw, NOVA, days=1, max_points=15 * 100)  # 15 queries × 100 minutes per call
    assert whole.calls == 1 and cut.calls == math.ceil(1440 / 100)
    assert whole.frame.equals(cut.frame)
    f = whole.frame
    for tier, fields in vals.items():
        for field, arr in fields.items():
            col = f[(tier, field)]
            assert col.sum() == arr.sum()
            assert col[col.index >= datetime.fromtimestamp(first, timezone.utc)].iloc[:ACTIVE].tolist() == \
                arr.astype(float).tolist()


class FakeCloudWatch:
    """Pages every answer (ListMetrics and GetMetricData) to exercise NextToken handling."""

    def __init__(self, points: dict[tuple[str, str], dict[float, float]]):
        self.points = points  # (tier, metric) -> {epoch: value}
        self.calls: list[dict] = []

    async def list_metrics(self, **kw):
        tiers = sorted({t for t, _ in self.points})
        page = int(kw.get("NextToken", 0))
        tier = tiers[page]
        return {"Metrics": [{"Namespace": "AWS/Bedrock", "MetricName": "Invocations", "Dimensions": [
            {"Name": "ModelId", "Value": NOVA}, {"Name": "ServiceTier", "Value": tier}]}],
                **({"NextToken": str(page + 1)} if page + 1 < len(tiers) else {})}

    async def get_metric_data(self, **kw):
        self.calls.append(kw)
        page = int(kw.get("NextToken", 0))
        t0, t1 = kw["StartTime"].timestamp(), kw["EndTime"].timestamp()
        results = []
        for q in kw["MetricDataQueries"]:
            dims = {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]}
            series = self.points.get((dims.get("ServiceTier"), q["MetricStat"]["Metric"]["MetricName"]), {})
            stamps = sorted(t for t in series if t0 <= t < t1)[page::2]  # half on each page
            results.append({"Id": q["Id"], "Timestamps": [datetime.fromtimestamp(t, timezone.utc) for t in stamps],
                            "Values": [series[t] for t in stamps], "StatusCode": "Complete"})
        return {"MetricDataResults": results, **({"NextToken": "1"} if page == 0 else {})}


async def test_fetch_history_follows_next_token_and_aligns_minutes():
    from tierconsole.core.aws.history import fetch_history

    now = 1_800_000_030.0  # half a minute into a minute: that minute is left out
    end = 1_800_000_000
    pts = {("flex", "InputTokenCount"): {end - 60: 5.0, end - 120: 7.0, end - 86_400: 11.0, end: 99.0},
           ("default", "OutputTokenCount"): {end - 3_600: 3.0}}
    cw = FakeCloudWatch(pts)
    h = await fetch_history(cw, NOVA, days=1, now=now)
    assert h.tiers == ("default", "flex") and len(h.frame) == 1440
    assert h.end.timestamp() == end and h.start.timestamp() == end - 86_400
    col = h.frame[("flex", "input")]
    assert col.iloc[-1] == 5.0 and col.iloc[-2] == 7.0 and col.iloc[0] == 11.0 and col.sum() == 23.0  # 99 is outside
    assert h.frame[("default", "output")].sum() == 3.0
    assert len(cw.calls) == 2 and cw.calls[1]["NextToken"] == "1"
    assert all(q["MetricStat"]["Period"] == 60 and q["MetricStat"]["Stat"] == "Sum"
               for q in cw.calls[0]["MetricDataQueries"])


def test_history_window_and_chunks():
    from tierconsole.core.aws.history import chunks, window

    start, end = window(1_800_000_030.0, 14)
    assert end == 1_800_000_000 and end - start == 14 * 86_400
    parts = chunks(start, end, 20)
    assert parts[0][0] == start and parts[-1][1] == end
    assert all(b == c for (_, b), (c, _) in zip(parts, parts[1:]))
    assert all((b - a) // 60 * 20 <= 100_800 and (a - start) % 60 == 0 for a, b in parts)
    with pytest.raises(ValueError):
        window(0, 15)
    from tierconsole.cli import plan as plan_cli
    from tierconsole.core.aws import history
    assert plan_cli.MAX_DAYS == history.MAX_DAYS


def test_client_error_exits_1_naming_the_call(sandbox, monkeypatch, tmp_path, capsys):
    import botocore.exceptions as bx

    from tierconsole.core.aws import history
    from tierconsole.cli.main import main

    async def denied(*args, **kwargs):
        raise bx.ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized to perform "
                                        "cloudwatch:GetMetricData"}}, "GetMetricData")

    monkeypatch.setattr(history, "fetch_history", denied)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("TIERCONSOLE_PROFILE", raising=False)
    code = main(["plan", "--model", NOVA, "--endpoint-url", sandbox.endpoint, "--profile", "sandbox", "--json"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "CloudWatch GetMetricData failed: AccessDenied: not authorized" in captured.err
