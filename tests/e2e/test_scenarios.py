"""Built-in scenarios, each run briefly at a high --speed: its signature must show in the
recorded outcomes and in CloudWatch (read with boto3 from the sandbox endpoint)."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config

from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.tiers import Tier
from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.scenarios import BUILT_IN, load_scenario, start_scenario

NOVA = "amazon.nova-lite-v1:0"
GPT = "openai.gpt-oss-20b-1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "AKIDSANDBOXTEST", "aws_secret_access_key": "sandbox"}
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
# Real seconds any one scenario may take to show its signature. Idle, each shows within ~6 s; the bound is
# generous because on a loaded 2-core CI machine the traffic generator and the engine share the CPU with
# the rest of the suite (flex-backlog once needed more than 8 s there). A pass returns as soon as it shows.
TIMEOUT_S = 25.0


class Run:
    def __init__(self, scenario: str, speed: float):
        self.sb = Sandbox(speed=speed, scenario=scenario)
        self.thread = SandboxThread(self.sb)
        self.thread.start()
        self.t0 = self.sb.clock.now()
        self.cw = boto3.client("cloudwatch", endpoint_url=self.sb.endpoint, config=NO_RETRY, **CREDS)

    def outcomes(self):
        return list(self.sb.outcomes.recent)

    def wait_for(self, predicate, what: str):
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            found = predicate(self.outcomes())
            if found:
                return found
            time.sleep(0.1)
        pytest.fail(f"{self.sb.scenario_name}: no {what} within {TIMEOUT_S}s real "
                    f"({self.sb.clock.now() - self.t0:.0f}s sandbox, {len(self.outcomes())} outcomes)")

    def cw_sum(self, metric: str, model: str, tier: str | None = None, stat: str = "Sum",
               namespace: str = "AWS/Bedrock") -> float:
        """A metric's sum over the run. Per tier as the sandbox publishes by default (AWS's documented form):
        ``ModelId=<model>+<tier>``; Standard has no suffix, so it is the bare total less the suffixed tiers."""
        if tier == "default":
            return self.cw_sum(metric, model, None, stat, namespace) - sum(
                self.cw_sum(metric, model, t, stat, namespace) for t in ("priority", "flex", "reserved"))
        dims = [{"Name": "ModelId", "Value": model if tier is None else f"{model}+{tier}"}]
        result = self.cw.get_metric_data(
            MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": metric,
                                                                     "Dimensions": dims}, "Period": 60, "Stat": stat}}],
            StartTime=datetime.fromtimestamp(int(self.t0) - 60, timezone.utc),
            EndTime=datetime.fromtimestamp(int(self.sb.clock.now()) + 60, timezone.utc))["MetricDataResults"][0]
        return sum(result["Values"])

    def wait_cw(self, metric: str, model: str, tier: str | None = None, namespace: str = "AWS/Bedrock") -> float:
        deadline = time.monotonic() + 4
        while (value := self.cw_sum(metric, model, tier, namespace=namespace)) <= 0 and time.monotonic() < deadline:
            time.sleep(0.2)  # published once per real second
        return value

    def stop(self):
        self.thread.stop()


@pytest.fixture
def run(caplog):
    runs: list[Run] = []

    def start(scenario: str, speed: float) -> Run:
        r = Run(scenario, speed)
        runs.append(r)
        return r

    with caplog.at_level(logging.WARNING):
        yield start
        for r in runs:
            r.stop()
            policies = r.sb.engine.settings.policies
            assert not r.sb.runtime.fault_hooks and r.sb.runtime.extra_latency_s == 0
            assert policies[Tier.FLEX].max_wait_s == 3600, "scenario tier overrides are undone on stop"
            assert all(t.done() for t in r.sb.scenario_run.tasks)
    problems = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert not problems, [rec.getMessage() for rec in problems]


def test_steady_uses_every_tier(run):
    r = run("steady", speed=100)
    tiers = {"reserved", "priority", "default", "flex"}
    r.wait_for(lambda os: tiers <= {o.served_tier for o in os if o.status == 200 and o.output_tokens}, "tier coverage")
    background = [o for o in r.outcomes() if o.source == "background"]
    assert background and all(o.tenant for o in background)
    assert not [o for o in background if o.error], "steady load stays within quota"
    for tier in tiers:
        model = SONNET if tier == "reserved" else NOVA
        assert r.wait_cw("InputTokenCount", model, tier) > 0, tier
        assert r.wait_cw("Invocations", model, tier) > 0, tier
    assert r.wait_cw("TimeToFirstToken", NOVA, "default") > 0, "streaming tenants publish TTFT"


def test_spike_throttles(run):
    r = run("spike", speed=50)
    throttled = r.wait_for(lambda os: [o for o in os if o.model_id == GPT and o.error == "ThrottlingException"]
                           if sum(o.error == "ThrottlingException" for o in os) >= 10 else None, "throttling storm")
    assert {o.tenant for o in throttled} <= {"checkout-assistant", "report-writer"}
    assert not [o for o in r.outcomes() if o.model_id != GPT and o.error], "other models stay calm"
    assert r.wait_cw("InvocationThrottles", GPT) >= 1
    assert r.wait_cw("InvocationThrottles", GPT, "default") >= 1


def test_flex_backlog_times_out(run):
    r = run("flex-backlog", speed=200)
    timed_out = r.wait_for(lambda os: [o for o in os if o.asked_tier == "flex" and o.error == "ThrottlingException"
                                       and o.queue_ms >= 600_000 * 0.99], "flex timeout")
    assert all(o.model_id == NOVA for o in timed_out)
    assert r.sb.engine.usage(NOVA, r.sb.clock.now())["queued"]["flex"] > 0, "the flex queue is still backed up"
    assert r.wait_cw("InvocationThrottles", NOVA, "flex") >= 1


def test_reserved_overflow(run):
    r = run("reserved-overflow", speed=50)
    overflowed = r.wait_for(lambda os: [o for o in os if o.asked_tier == "reserved" and o.overflowed
                                        and o.status == 200], "overflow")
    assert all(o.served_tier == "default" for o in overflowed)
    assert any(o.served_tier == "reserved" for o in r.outcomes()), "the reservation served first"
    assert r.wait_cw("ReservedOverflowInvocations", SONNET, namespace="TierConsole/Sandbox") >= 1
    assert r.wait_cw("ReservedOverflowInputTokenCount", SONNET, namespace="TierConsole/Sandbox") > 0
    assert r.cw_sum("ReservedOverflowInvocations", SONNET) == 0, "not in AWS/Bedrock: AWS publishes no such metric"
    assert r.wait_cw("Invocations", SONNET, "default") >= 1
    assert r.wait_cw("Invocations", SONNET, "reserved") >= 1


def test_outage_503s(run):
    r = run("outage", speed=50)
    failed = r.wait_for(lambda os: [o for o in os if o.error == "ServiceUnavailableException"], "503")
    assert all(o.status == 503 for o in failed)
    assert r.wait_cw("InvocationServerErrors", NOVA) >= 1


def test_every_built_in_loads():
    catalog = Sandbox().config.catalog
    for name in BUILT_IN[1:]:
        scenario = load_scenario(name, catalog)
        assert scenario.name == name and scenario.tenants


BAD = """\
name: broken
tenants:
  - {name: a, model: amazon.nova-lite-v1:0, tier: default, rate: 1, prompt_tokens: 100}
  - name: b
    model: amazon.nova-lite-v1:0
    rate: fast
    prompt_tokens: 100
"""


def test_malformed_file_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    err = info.value
    assert (err.source, err.line, err.path) == (str(path), 6, "tenants[1].rate")
    assert str(err).startswith(f"{path}:6: tenants[1].rate: must be float")

    path.write_text(BAD.replace("rate: fast", "rate: 1\n    tier: turbo"))
    with pytest.raises(ConfigError, match=r"bad\.yaml:7: tenants\[1\]\.tier: unknown tier 'turbo'"):
        load_scenario(path)

    path.write_text(BAD.replace("rate: fast", "rate: [1"))
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: YAML syntax error"):
        load_scenario(path)

    path.write_text(BAD.replace("rate: fast", "rate: 1").replace("amazon.nova-lite-v1:0\n", "no.such-model\n"))
    with pytest.raises(ConfigError, match=r"bad\.yaml:5: tenants\[1\]\.model: model 'no.such-model' is not in"):
        load_scenario(path, Sandbox().config.catalog)

    with pytest.raises(ConfigError, match="unknown scenario 'nope'"):
        load_scenario("nope")


def test_a_bad_scenario_stops_the_sandbox_from_starting(tmp_path):
    path = tmp_path / "phases.yaml"
    path.write_text("tenants:\n  - {name: a, model: amazon.nova-lite-v1:0, rate: 1, prompt_tokens: 10}\n"
                    "phases:\n  - {start: 0, duration: 10, tenants: [ghost]}\n")
    # Refused when the sandbox is made, before any port is bound.
    with pytest.raises(ConfigError, match=r"phases\.yaml:4: phases\[0\]\.tenants: no tenant named 'ghost'"):
        Sandbox(scenario=str(path))


async def test_scenario_file_runs_and_stops_cleanly(tmp_path):
    """A scenario from a file, on a sandbox driven in this test's loop; stop() leaves nothing behind."""
    path = tmp_path / "mini.yaml"
    path.write_text("name: mini\nrepeat: 20\ntenants:\n"
                    "  - {name: open, model: openai.gpt-oss-20b-1:0, tier: flex, rate: 5,\n"
                    "     prompt_tokens: 50, max_tokens: 40}\n"
                    "  - {name: closed, model: amazon.nova-lite-v1:0, concurrency: 3,\n"
                    "     prompt_tokens: 50, max_tokens: 40}\n"
                    "phases:\n  - {name: quiet, start: 10, duration: 10, multiplier: 0}\n")
    sb = Sandbox(speed=20)  # at 50 a loaded CI machine's scheduling delay alone spans a sandbox second
    await sb.start()
    run = start_scenario(sb, str(path))
    await asyncio.sleep(1.25)  # 25 sandbox seconds: one cycle and a bit
    tenants = {o.tenant for o in sb.outcomes.recent}
    await sb.stop()
    assert tenants == {"open", "closed"}
    assert all(t.done() for t in run.tasks)
    assert not sb.runtime.fault_hooks
    # When the sandbox received each request (an outcome's time is when it was answered)
    in_quiet = [o for o in sb.outcomes.recent
                if 11 <= (o.time - o.latency_ms / 1000 - run.t0) % 20 < 19 and o.tenant == "open"]
    assert not in_quiet, "multiplier 0 silences the tenant (allowing for answers in flight)"
