"""The fleet end to end (issue 15): the console's real aiobotocore clients and the CLI as a process against a
multi-account fleet sandbox on loopback (fleet-sbx's), with traffic sent by boto3 as each source account.

One search-prod account with a 200-TPM Nova quota takes enough prompts to pass 50%; payments-prod sends one;
data-science refuses AssumeRole; legacy is not linked (its metrics never reach the monitoring account)."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

from tests.conftest import NOVA, user
from tests.e2e.test_headless import env  # noqa: F401 - the fixture
from tests.e2e.test_sandbox_fleet import DENIED, PAYMENTS, SEARCH, UNLINKED, client, fleet_config
from tests.e2e.test_sandbox_fleet import FLEET as BASE_FLEET

from tierconsole.core.aws.fleet import FleetCollector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import _load

CLI = [sys.executable, "-m", "tierconsole.cli"]
#: the fleet-sandbox tests' fleet, with a Nova quota of 200 TPM for search-prod (a few prompts pass 50%) and a
#: bucket of its own (S3 names are global in moto)
FLEET = BASE_FLEET.replace("quotas: {%s: {tpm: 60000, rpm: 100}}" % NOVA, "quotas: {%s: {tpm: 200, rpm: 100}}" % NOVA) \
    .replace("bucket: tierconsole-fleet-test", "bucket: tierconsole-fleet-con-test")
assert "tpm: 200," in FLEET and "fleet-con-test" in FLEET


def profile_text(endpoint: str) -> str:
    return (f"name: fx\nendpoint_url: {endpoint}\nsandbox: {{}}\nregions: [us-east-1, us-west-2]\n"
            "fleet:\n  access:\n    - match: 'label:payments-*'\n"
            "      role_arn: 'arn:aws:iam::{account}:role/Operator'\n"
            "    - match: '*'\n      role_arn: 'arn:aws:iam::{account}:role/Read'\n      read_only: true\n")


@pytest.fixture(scope="module")
def fleet():
    from tierconsole.sandbox.app import Sandbox, SandboxThread

    thread = SandboxThread(Sandbox(fleet_config(FLEET), speed=1.0))
    thread.start()
    sb = thread.sandbox
    for account, region, n in ((SEARCH, "us-east-1", 10), (PAYMENTS, "us-east-1", 1), (PAYMENTS, "us-west-2", 1),
                               (DENIED, "us-east-1", 1),
                               (UNLINKED, "us-east-1", 1)):
        rt = client(sb, "bedrock-runtime", account, region)
        for _ in range(n):
            try:  # search-prod's last ones pass its 200-TPM quota: throttled
                rt.converse(modelId=NOVA, messages=user("hello there"), inferenceConfig={"maxTokens": 20})
            except rt.exceptions.ThrottlingException:
                pass
    cw = client(sb, "cloudwatch", None, "us-east-1")  # the sandbox publishes in the background: wait for it
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = cw.list_metrics(Namespace="AWS/Bedrock", MetricName="Invocations", IncludeLinkedAccounts=True)
        if {SEARCH, PAYMENTS, DENIED} <= set(page.get("OwningAccounts", [])):
            break
        time.sleep(0.5)
    yield sb
    thread.stop()


def run(cwd, env, *args):  # noqa: F811
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


@pytest.fixture(autouse=True)
def _cache_home(tmp_path, monkeypatch, env):  # noqa: F811 - the quota cache of these runs, never the user's
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")


@pytest.fixture
def cwd(tmp_path, fleet):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "fx.yaml").write_text(profile_text(fleet.endpoint))
    return tmp_path


def test_a_profile_without_a_fleet_section_is_a_usage_error_naming_it(tmp_path, env):  # noqa: F811
    for argv in (["fleet"], ["status", "--fleet", "--fail-over", "0.5"]):
        r = run(tmp_path, env, *argv)
        assert r.returncode == 2, r.stderr
        assert "profile 'sandbox' has no fleet: section" in r.stderr and "Traceback" not in r.stderr
        assert r.stdout == ""


def test_status_fleet_exits_3_naming_the_accounts_over_the_line(cwd, env):  # noqa: F811
    r = run(cwd, env, "--profile", "fx", "status", "--fleet", "--fail-over", "0.5", "--json")
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    top = doc["rows"][0]
    assert (top["account_id"], top["account_name"], top["region"], top["series"]) == (SEARCH, "search-prod",
                                                                                       "us-east-1", NOVA)
    assert top["use"] >= 0.5 and top["binding"]["value"] == 200 and top["source"] == "sandbox"
    assert f"search-prod ({SEARCH}): us-east-1 {NOVA} on-demand" in r.stderr
    assert "payments-prod" not in r.stderr.split("over 50%", 1)[1]  # one prompt is not over the line
    accounts = {a["account_id"]: a for a in doc["accounts"]}
    assert UNLINKED not in accounts and accounts[PAYMENTS]["name_source"] == "link label"
    assert accounts[DENIED]["quota_note"].startswith("access denied (AssumeRole)")
    assert doc["calls"]["GetMetricData"] == 2  # one per region: 2 regions, a handful of queries


def test_a_denied_account_is_exit_1_named_and_keeps_its_metrics(cwd, env):  # noqa: F811
    r = run(cwd, env, "--profile", "fx", "status", "--fleet", "--fail-over", "0.99")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert f"could not read data-science ({DENIED}) us-east-1 quota use: access denied (AssumeRole)" in r.stderr
    assert "Traceback" not in r.stderr and "Refreshing temporary credentials" not in r.stderr
    line = next(ln for ln in r.stdout.splitlines() if DENIED in ln and NOVA in ln)
    assert " —  " in line  # its use is unknown, never 0 ...


def test_quota_listings_are_cached_for_the_next_run_0600_without_credentials(cwd, env, tmp_path):  # noqa: F811
    first = json.loads(run(cwd, env, "--profile", "fx", "fleet", "--json").stdout)
    second = json.loads(run(cwd, env, "--profile", "fx", "fleet", "--json").stdout)
    assert first["calls"]["ListServiceQuotas"] == 3 and "ListServiceQuotas" not in second["calls"]
    assert "AssumeRole" in second["calls"]  # only data-science, whose refusal is not cached: asked again
    def quotas(doc):  # which quota binds and its limit, from the listing (use moves with the trailing minute)
        return sorted((r["account_id"], r["region"], r["series"], (r["binding"] or {}).get("code"),
                       (r["binding"] or {}).get("value")) for r in doc["rows"])

    assert quotas(second) == quotas(first) and any(q[3] for q in quotas(second))
    cache = tmp_path / "cache" / "tierconsole" / "fleet" / "fx.json"
    assert cache.stat().st_mode & 0o777 == 0o600
    text = cache.read_text()
    assert SEARCH in text and "AccessKeyId" not in text and "SecretAccessKey" not in text and "ASIA" not in text


def test_fleet_text_filter_and_region(cwd, env):  # noqa: F811
    r = run(cwd, env, "--profile", "fx", "fleet", "--filter", "payments", "--region", "us-east-1")
    assert r.returncode == 1 and "could not read data-science" in r.stderr  # the fleet's verdict, not the view's
    lines = [ln for ln in r.stdout.splitlines() if PAYMENTS in ln]
    assert lines and all("us-east-1" in ln for ln in lines)
    assert SEARCH not in r.stdout.split("\n", 3)[3]


def test_the_collector_costs_one_get_metric_data_per_region_and_marks_a_dead_endpoint_per_region(fleet):
    async def go():
        profile = _load("fx", "fx.yaml", "user", profile_text(fleet.endpoint))
        ctx = AwsContext(Target(profile, fleet.endpoint, sandbox=True))
        c = FleetCollector(ctx)
        try:
            first = await c.refresh(wait_quotas=True)
            # throttles/min are the last complete minute's: read as at the second after search-prod's minute of them
            hot = next(r for r in first.rows if r.account_id == SEARCH and r.series == NOVA)
            minute = max(m for m, n in hot.throttle_minutes if n > 0)
            c.clock = lambda: minute + 61.0
            second = await c.refresh()
        finally:
            await c.close()
            await ctx.close()
        dead = _load("fx", "fx.yaml", "user", profile_text("http://127.0.0.1:9"))
        ctx = AwsContext(Target(dead, "http://127.0.0.1:9", sandbox=True))
        c = FleetCollector(ctx)
        try:
            down = await c.refresh()
        finally:
            await c.close()
            await ctx.close()
        return first, second, down

    first, second, down = asyncio.run(go())
    # each account × region with Bedrock series, through the account itself (a context per read, closed after):
    # payments in 2 regions, search in 1; data-science refuses AssumeRole
    assert first.calls["AssumeRole"] == 4 and first.calls["ListServiceQuotas"] == 3
    assert second.calls == {"GetMetricData": 2}
    search = next(r for r in second.rows if r.account_id == SEARCH)
    assert search.tpm_used and search.binding is not None
    # throttles by tier from the one Metrics Insights query of call 0 (GROUP BY AWS.AccountId, ModelId)
    assert search.throttles_per_min and search.throttles_by_tier and search.throttles_by_tier.get("default", 0) > 0
    assert set(down.region_stale) == {"us-east-1", "us-west-2"}
    assert all("endpoint down" in why for why in down.region_stale.values())


def test_a_region_down_marks_only_that_region_and_keeps_its_last_figures(fleet):
    """The sandbox's `reset+region=us-west-2` drill (every connection signed for us-west-2 dropped)."""
    from tierconsole.sandbox.faults import parse_faults

    async def go():
        profile = _load("fx", "fx.yaml", "user", profile_text(fleet.endpoint))
        ctx = AwsContext(Target(profile, fleet.endpoint, sandbox=True))
        c = FleetCollector(ctx, cache=False)
        try:
            before = await c.refresh(wait_quotas=True)
            fleet.faults.rules = parse_faults("reset+region=us-west-2")
            try:
                during = await c.refresh()
            finally:
                fleet.faults.rules = []
            after = await c.refresh()
        finally:
            await c.close()
            await ctx.close()
        return before, during, after

    before, during, after = asyncio.run(go())
    west = [r for r in before.rows if r.region == "us-west-2"]
    assert west and all(r.stale is None for r in before.rows)
    assert set(during.region_stale) == {"us-west-2"} and "reset" in during.region_stale["us-west-2"]
    stale = [r for r in during.rows if r.stale]
    assert {r.region for r in stale} == {"us-west-2"} and len(stale) == len(west)
    assert [r.tpm_used for r in stale] == [r.tpm_used for r in west]  # the last good figures, marked
    assert not after.region_stale and not any(r.stale for r in after.rows)


@pytest.fixture(scope="module")
def quiet_fleet():
    """The same fleet with no Bedrock traffic at all (a throwaway sandbox just started)."""
    from tierconsole.sandbox.app import Sandbox, SandboxThread

    thread = SandboxThread(Sandbox(fleet_config(FLEET.replace("fleet-con-test", "fleet-quiet-test")), speed=1.0))
    thread.start()
    yield thread.sandbox
    thread.stop()


@pytest.mark.parametrize("fail_over", [["--fail-over", "0.8"], []], ids=["fail-over", "plain"])
def test_status_fleet_with_nothing_measured_is_exit_1_saying_so(tmp_path, env, quiet_fleet, fail_over):  # noqa: F811
    """F6 (newcomer-4): 0 rows across the whole fleet exited 0, the cron "all clear"."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "fx.yaml").write_text(profile_text(quiet_fleet.endpoint))
    r = run(tmp_path, env, "--profile", "fx", "status", "--fleet", *fail_over)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert ("tierconsole: nothing was measured across the fleet: no Bedrock traffic in the last 3 hours in any of "
            "its 3 linked accounts (us-east-1, us-west-2)") in r.stderr
    assert "Traceback" not in r.stderr and "linked, no Bedrock traffic" in r.stdout
