"""The AWS CLI (v1, its own venv: see conftest.py) against the shipped `fleet` sandbox, as an operator checks a
monitoring account by hand: the OAM sinks and their attached links (`aws oam`), the linked accounts' series
(`aws cloudwatch list-metrics --include-linked-accounts`, `--owning-account`) and their data read with
`AccountId` and one Metrics Insights query (`aws cloudwatch get-metric-data`). The credentials are the
`sandbox` key: the monitoring account 100000000000. What the CLI prints is checked against the fleet the
config declares (profiles/fleet.yaml), so the sandbox's OAM answers what AWS's would for that fleet."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.test_fleet_tiers import shipped_fleet, start_fleet_sandbox
from tests.e2e.test_sandbox_fleet import load_sandbox_config_of

MONITORING, EU_RETAIL, LEGACY = "100000000000", "200000000008", "200000000013"
NOVA, EU = "amazon.nova-lite-v1:0", "eu-west-1"
METRIC = "AWS::CloudWatch::Metric"


@pytest.fixture(scope="module")
def fleet_sandbox():
    thread = start_fleet_sandbox(shipped_fleet("tierconsole-fleet-awscli-test"))
    yield thread.sandbox, load_sandbox_config_of("fleet").fleet
    thread.stop()


def cli(aws, endpoint: str, *args: str) -> dict:
    proc = aws(endpoint, *args)
    assert proc.returncode == 0, (args, proc.stderr)
    return json.loads(proc.stdout)


def test_oam_sinks_and_attached_links_name_the_linked_accounts(aws, fleet_sandbox):
    sb, fleet = fleet_sandbox
    for region in fleet.regions:
        sinks = cli(aws, sb.endpoint, "oam", "list-sinks", "--region", region)["Items"]
        assert len(sinks) == 1, sinks  # one sink per region in the monitoring account, as AWS allows
        arn = sinks[0]["Arn"]
        assert arn.startswith(f"arn:aws:oam:{region}:{MONITORING}:sink/") and sinks[0]["Id"] in arn
        links = cli(aws, sb.endpoint, "oam", "list-attached-links", "--sink-identifier", arn,
                    "--region", region)["Items"]
        got = {link["LinkArn"].split(":")[4]: link for link in links}
        expected = {a.account_id: a.name for a in fleet.accounts if a.link and region in a.regions}
        assert {a: link["Label"] for a, link in got.items()} == expected, region
        for account, link in got.items():
            assert link["LinkArn"].startswith(f"arn:aws:oam:{region}:{account}:link/")
            assert METRIC in link["ResourceTypes"]
    assert LEGACY not in {link["LinkArn"].split(":")[4] for link in links}  # link: false


def _wait_for_eu_retail(aws, endpoint: str, timeout: float = 90.0) -> dict:
    """ListMetrics with --include-linked-accounts until eu-retail's Nova Lite throttles (bare and +priority)."""
    deadline = time.monotonic() + timeout
    while True:
        page = cli(aws, endpoint, "cloudwatch", "list-metrics", "--namespace", "AWS/Bedrock", "--metric-name",
                   "InvocationThrottles", "--include-linked-accounts", "--region", EU)
        ids = {(owner, d["Value"]) for m, owner in zip(page["Metrics"], page["OwningAccounts"])
               for d in m["Dimensions"] if d["Name"] == "ModelId"}
        if {(EU_RETAIL, NOVA), (EU_RETAIL, f"{NOVA}+priority")} <= ids:
            return page
        assert time.monotonic() < deadline, f"eu-retail never throttled: {sorted(ids)}"
        time.sleep(2.0)


def test_list_metrics_of_linked_accounts_names_each_owner(aws, fleet_sandbox):
    sb, fleet = fleet_sandbox
    page = _wait_for_eu_retail(aws, sb.endpoint)
    assert len(page["Metrics"]) == len(page["OwningAccounts"])  # one owner per metric, in order
    linked_here = {a.account_id for a in fleet.accounts if a.link and EU in a.regions} | {MONITORING}
    assert set(page["OwningAccounts"]) <= linked_here
    assert all(m["Namespace"] == "AWS/Bedrock" and m["MetricName"] == "InvocationThrottles" for m in page["Metrics"])
    own = cli(aws, sb.endpoint, "cloudwatch", "list-metrics", "--namespace", "AWS/Bedrock", "--metric-name",
              "InvocationThrottles", "--include-linked-accounts", "--owning-account", EU_RETAIL, "--region", EU)
    assert own["Metrics"] and set(own["OwningAccounts"]) == {EU_RETAIL}
    plain = cli(aws, sb.endpoint, "cloudwatch", "list-metrics", "--namespace", "AWS/Bedrock", "--region", EU)
    assert plain["Metrics"] == []  # without --include-linked-accounts: the monitoring account's own (it has none)


def complete(result: dict) -> dict:
    """A result's minutes but the newest (still filling at 20x: the two reads of one call may see it apart)."""
    points = dict(zip(result["Timestamps"], result["Values"]))
    points.pop(max(points), None)
    return points


def test_get_metric_data_reads_a_linked_account_by_id_and_insights_groups_by_account(aws, fleet_sandbox, tmp_path):
    sb, _ = fleet_sandbox
    _wait_for_eu_retail(aws, sb.endpoint)
    now = datetime.now(timezone.utc)

    def stat(qid: str, account: str, model: str) -> dict:
        return {"Id": qid, "AccountId": account, "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "AWS/Bedrock", "MetricName": "InvocationThrottles",
                       "Dimensions": [{"Name": "ModelId", "Value": model}]}, "Period": 60, "Stat": "Sum"}}

    queries = [stat("bare", EU_RETAIL, NOVA), stat("pri", EU_RETAIL, f"{NOVA}+priority"),
               stat("legacy", LEGACY, NOVA),
               {"Id": "insights", "Period": 60, "ReturnData": True,
                "Expression": 'SELECT SUM(InvocationThrottles) FROM SCHEMA("AWS/Bedrock", ModelId) '
                              f"WHERE AWS.AccountId = '{EU_RETAIL}' GROUP BY AWS.AccountId, ModelId "
                              "ORDER BY SUM() DESC LIMIT 10"}]
    file = tmp_path / "queries.json"
    file.write_text(json.dumps(queries))
    # the sandbox's clock runs 20x: its data time is ahead of ours, so the window reaches well past now
    out = cli(aws, sb.endpoint, "cloudwatch", "get-metric-data", "--metric-data-queries", f"file://{file}",
              "--start-time", (now - timedelta(hours=1)).isoformat(), "--end-time",
              (now + timedelta(hours=3)).isoformat(), "--region", EU)
    results = out["MetricDataResults"]
    by_id = {r["Id"]: r for r in results if r["Id"] != "insights"}
    groups = {r["Label"]: r for r in results if r["Id"] == "insights"}
    assert by_id["bare"]["StatusCode"] == "Complete" and sum(by_id["bare"]["Values"]) > 0
    assert sum(by_id["pri"]["Values"]) > 0
    # legacy-billing is not linked (and not in eu-west-1): refused for this monitoring account, not answered empty
    assert by_id["legacy"]["StatusCode"] == "Forbidden" and by_id["legacy"]["Values"] == []
    # Insights: one result per group, each with the query's Id; the same figures as the MetricStat queries
    assert {f"{EU_RETAIL} {NOVA}", f"{EU_RETAIL} {NOVA}+priority"} <= set(groups)
    assert complete(groups[f"{EU_RETAIL} {NOVA}"]) == complete(by_id["bare"])
    assert complete(groups[f"{EU_RETAIL} {NOVA}+priority"]) == complete(by_id["pri"])
    # the bare series is the model total (metrics.bare_model_id: total): Standard's throttles are the rest
    assert sum(by_id["bare"]["Values"]) > sum(by_id["pri"]["Values"])
    sums = [sum(r["Values"]) for r in results if r["Id"] == "insights"]
    assert sums == sorted(sums, reverse=True)  # ORDER BY SUM() DESC
