"""The fleet collector against a scripted AWS (OAM, CloudWatch, STS, Bedrock, Service Quotas answering as the
botocore models shape them, errors as botocore raises them): calls per refresh, discovery on its cadence, quotas
through each account, and faults kept to the smallest scope. The collector, the access rules, the plan and the
rows run for real; only the wire is scripted (the multi-account sandbox's end-to-end tests replace it)."""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

import botocore.exceptions as bx

from tierconsole.core.aws.fleet import FleetCollector
from tierconsole.core.aws.fleet_access import AccountContexts
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.domain.profile import parse_profile

NOW = 1_800_000_030.0
MINUTE = math.floor(NOW / 60) * 60
MON = "100000000000"
NOVA = "amazon.nova-lite-v1:0"
QUOTA = "On-demand model inference tokens per minute for Amazon Nova Lite"


@dataclass
class World:
    """What the scripted AWS holds: per region the linked accounts and their traffic, per account its quota."""

    regions: dict[str, dict[str, dict[str, float]]]  # region -> account -> metric -> value (Nova, this minute)
    labels: dict[str, str] = field(default_factory=dict)
    tpm_quota: float = 1000.0
    down: set[str] = field(default_factory=set)  # regions whose endpoint is down
    forbidden: set[tuple[str, str]] = field(default_factory=set)  # (account, region) not linked there
    denied: set[str] = field(default_factory=set)  # accounts whose role cannot be assumed
    wire: list[tuple[str, str, str]] = field(default_factory=list)  # (account acting, region, operation)
    fail_split: bool = False  # every GetMetricData but the first of a refresh (the one with Insights) fails


def client_error(code: str, op: str) -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": "scripted"}}, op)


class Client:
    def __init__(self, world: World, account: str, service: str, region: str):
        self.w, self.account, self.service, self.region = world, account, service, region

    def _op(self, op: str) -> None:
        self.w.wire.append((self.account, self.region, op))
        if self.region in self.w.down:
            raise bx.EndpointConnectionError(endpoint_url=f"https://{self.service}.{self.region}.amazonaws.com")

    async def get_caller_identity(self):
        self._op("GetCallerIdentity")
        if self.account in self.w.denied:
            raise client_error("AccessDenied", "AssumeRole")
        return {"Account": self.account}

    async def list_sinks(self, **_):
        self._op("ListSinks")
        return {"Items": [{"Arn": f"arn:aws:oam:{self.region}:{MON}:sink/s1", "Id": "s1", "Name": "fleet"}]}

    async def list_attached_links(self, SinkIdentifier, **_):
        self._op("ListAttachedLinks")
        return {"Items": [{"Label": self.w.labels.get(a, a), "LinkArn": f"arn:aws:oam:{self.region}:{a}:link/l{a}",
                           "ResourceTypes": ["AWS::CloudWatch::Metric"]} for a in self.w.regions[self.region]]}

    async def list_metrics(self, IncludeLinkedAccounts=False, **_):
        self._op("ListMetrics")
        assert IncludeLinkedAccounts is True
        metrics, owners = [], []
        for account in self.w.regions[self.region]:
            for value in (NOVA, f"{NOVA}+priority"):
                metrics.append({"Namespace": "AWS/Bedrock", "MetricName": "Invocations",
                                "Dimensions": [{"Name": "ModelId", "Value": value}]})
                owners.append(account)
        return {"Metrics": metrics, "OwningAccounts": owners}

    async def get_metric_data(self, MetricDataQueries, StartTime, EndTime, **_):
        self._op("GetMetricData")
        assert len(MetricDataQueries) <= 500
        if self.w.fail_split and not any("Expression" in q for q in MetricDataQueries):
            raise client_error("InternalServiceFault", "GetMetricData")
        out = []
        stamp = [datetime.fromtimestamp(MINUTE, timezone.utc)]
        complete = [datetime.fromtimestamp(MINUTE - 60, timezone.utc)]  # throttles: the last complete minute's
        for q in MetricDataQueries:
            if "Expression" in q:
                for account, metrics in self.w.regions[self.region].items():
                    if metrics.get("InvocationThrottles"):
                        out.append({"Id": q["Id"], "Label": f"{account} {NOVA}+priority", "Timestamps": complete,
                                    "Values": [metrics["InvocationThrottles"]], "StatusCode": "Complete"})
                continue
            account = q["AccountId"]
            if (account, self.region) in self.w.forbidden:
                out.append({"Id": q["Id"], "Timestamps": [], "Values": [], "StatusCode": "Forbidden"})
                continue
            metric = q["MetricStat"]["Metric"]["MetricName"]
            value = self.w.regions[self.region].get(account, {}).get(metric)
            at = complete if metric == "InvocationThrottles" else stamp
            out.append({"Id": q["Id"], "Timestamps": at if value else [], "Values": [value] if value else [],
                        "StatusCode": "Complete"})
        return {"MetricDataResults": out}

    async def list_foundation_models(self):
        self._op("ListFoundationModels")
        return {"modelSummaries": [{"modelId": NOVA, "modelName": "Nova Lite", "providerName": "Amazon"}]}

    async def list_service_quotas(self, **_):
        self._op("ListServiceQuotas")
        return {"Quotas": [{"QuotaName": QUOTA, "QuotaCode": "L-1", "Value": self.w.tpm_quota}]}


class ScriptedContext(AwsContext):
    def __init__(self, target: Target, world: World, account: str):
        super().__init__(target)
        self.world, self.account = world, account

    async def client(self, service, region=None):
        return Client(self.world, self.account, service, region or self.profile.region)


FLEET = {"name": "prod-fleet", "regions": ["us-east-1", "us-west-2"], "alert_threshold": 0.8,
         "fleet": {"access": [{"match": "label:team-*", "aws_profile": "teams"},
                              {"match": "2000000000*", "role_arn": "arn:aws:iam::{account}:role/Read"}]}}


def collector(world: World, doc=FLEET) -> FleetCollector:
    profile = parse_profile(doc, default_name="prod-fleet")
    monitoring = ScriptedContext(Target(profile), world, MON)

    def make(mon, rule, account, name, region, calls):
        return ScriptedContext(Target(profile), world, account)

    c = FleetCollector(monitoring, clock=lambda: NOW, cache=False)
    c.accounts = AccountContexts(monitoring, profile.fleet, c.calls, make=make)
    return c


def calm(tpm=100.0):
    return {"EstimatedTPMQuotaUsage": tpm, "Invocations": 2.0}


def world() -> World:
    return World(regions={
        "us-east-1": {"200000000001": calm(900.0), "200000000002": {**calm(), "InvocationThrottles": 3.0},
                      "200000000003": calm()},
        "us-west-2": {"200000000001": calm(), "300000000009": calm()}},
        labels={"200000000001": "payments-prod", "300000000009": "team-ml"})


def test_one_refresh_is_one_get_metric_data_per_region_after_discovery():
    w = world()
    c = collector(w)

    async def go():
        first = await c.refresh(wait_quotas=True)
        w.wire.clear()
        second = await c.refresh()
        return first, second

    first, second = asyncio.run(go())
    assert first.calls["GetMetricData"] == 2 and first.calls["ListMetrics"] == 2
    assert second.calls == {"GetMetricData": 2}  # discovery and quotas are on their slow cadence
    assert sorted(op for _, _, op in w.wire) == ["GetMetricData", "GetMetricData"]


def test_rows_worst_first_with_labels_binding_quota_and_tier_split():
    snap = asyncio.run(collector(world()).refresh(wait_quotas=True))
    top = snap.rows[0]
    assert (top.account_id, top.throttles_per_min, top.throttles_by_tier) == ("200000000002", 3.0, {"priority": 3.0, "default": 0.0})
    second = snap.rows[1]
    assert (second.account_name, second.region, round(second.use, 2)) == ("payments-prod", "us-east-1", 0.9)
    assert second.binding.name == QUOTA
    ml = next(r for r in snap.rows if r.account_id == "300000000009")
    assert ml.account_name == "team-ml" and ml.use == 0.1  # reached by its label rule
    assert snap.pulse.text() == "1 account over 80% · 1 throttling · 4 accounts in 2 regions"
    info = snap.account("300000000009")
    assert info.name_source == "link label" and info.access == "aws_profile teams (fleet.access[0])"


def test_quotas_are_read_through_each_account_itself():
    w = world()
    asyncio.run(collector(w).refresh(wait_quotas=True))
    quota_reads = {(a, r) for a, r, op in w.wire if op == "ListServiceQuotas"}
    assert quota_reads == {("200000000001", "us-east-1"), ("200000000002", "us-east-1"),
                           ("200000000003", "us-east-1"), ("200000000001", "us-west-2"),
                           ("300000000009", "us-west-2")}


def test_an_account_no_rule_reaches_shows_metrics_and_says_why_quota_is_unknown():
    w = world()
    w.regions["us-west-2"]["400000000004"] = calm(500.0)
    snap = asyncio.run(collector(w).refresh(wait_quotas=True))
    row = next(r for r in snap.rows if r.account_id == "400000000004")
    assert row.tpm_used == 500.0 and row.use is None and "no access configured" in row.quota_note
    assert not any(a == "400000000004" and op == "ListServiceQuotas" for a, _, op in w.wire)


def test_a_denied_account_loses_only_its_quota_use():
    w = world()
    w.denied.add("200000000003")
    snap = asyncio.run(collector(w).refresh(wait_quotas=True))
    denied = [r for r in snap.rows if r.account_id == "200000000003"]
    assert denied and all(r.use is None and "access denied" in r.quota_note for r in denied)
    assert all(r.tpm_used == 100.0 and r.stale is None for r in denied)  # its metrics still come through OAM
    assert all(r.use is not None for r in snap.rows if r.account_id in ("200000000001", "200000000002"))


def test_a_forbidden_account_is_stale_in_that_region_only_keeping_its_last_figures():
    w = world()
    c = collector(w)

    async def go():
        await c.refresh(wait_quotas=True)
        w.forbidden.add(("200000000001", "us-east-1"))
        w.regions["us-east-1"]["200000000001"] = calm(10.0)
        return await c.refresh()

    snap = asyncio.run(go())
    stale = [r for r in snap.rows if r.stale]
    assert [(r.account_id, r.region) for r in stale] == [("200000000001", "us-east-1")]
    assert "Forbidden" in stale[0].stale and stale[0].tpm_used == 900.0  # the last good figure, not the new one
    assert snap.account("200000000001").stale == {"us-east-1": stale[0].stale}


def test_a_region_down_marks_only_that_region():
    w = world()
    c = collector(w)

    async def go():
        await c.refresh(wait_quotas=True)
        w.down.add("us-west-2")
        return await c.refresh()

    snap = asyncio.run(go())
    assert {r.region for r in snap.rows if r.stale} == {"us-west-2"}
    assert all(r.stale is None for r in snap.rows if r.region == "us-east-1")
    assert "endpoint down" in snap.region_stale["us-west-2"]


def test_a_failed_split_call_marks_only_its_accounts():
    w = World(regions={"us-east-1": {f"5000000000{i:02d}": calm() for i in range(40)}})
    w.fail_split = True
    c = collector(w, {**FLEET, "regions": ["us-east-1"]})
    c.query_limit = 100  # the same fleet cut every 100 queries: 40 accounts × 3 = 120 (+ Insights) = 2 calls
    snap = asyncio.run(c.refresh())
    plan = c.plan("us-east-1", NOW)
    assert len(plan.calls) == 2 and snap.calls["GetMetricData"] == 2
    stale = {r.account_id for r in snap.rows if r.stale}
    assert stale == set(plan.calls[1].accounts) and 0 < len(stale) < 40
    assert all("InternalServiceFault" in r.stale for r in snap.rows if r.stale)
    assert "us-east-1" not in snap.region_stale
