"""A fleet sandbox: several accounts and regions behind one endpoint, with CloudWatch cross-account
observability (OAM), driven by real boto3 clients on loopback.

The credential picks the account (the built-in ``sandbox-<account>`` key, or keys from STS AssumeRole), the
SigV4 scope's region picks the region; each (account, region) has its own quotas, traffic and metrics; the
monitoring account reads linked accounts' metrics with ``AccountId`` / ``IncludeLinkedAccounts``.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import NOVA, user
from tierconsole.core.domain.sandboxkeys import account_credentials
from tierconsole.core.config.loader import load_yaml
from tierconsole.sandbox.config import load_sandbox_config, parse_sandbox_config

MONITORING = "100000000000"
PAYMENTS, SEARCH, DENIED, UNLINKED = "200000000001", "200000000002", "200000000003", "200000000004"
FLEET = f"""
sandbox:
  account_id: "{MONITORING}"
  account_name: observability
  bucket: tierconsole-fleet-test    # S3 names are global: not the single-account sandbox's of other tests
  regions: [us-east-1, us-west-2, eu-west-1]
  oam: auto
  models:
    - {{id: {NOVA}, name: Amazon Nova Lite, family: nova, tpm: 120000, rpm: 300, burndown: 1,
       max_output_tokens: 5000, output_tps: 2000, ttft_ms: 10}}
  accounts:
    - {{id: "{PAYMENTS}", name: payments-prod, regions: [us-east-1, us-west-2]}}
    - {{id: "{SEARCH}", name: search-prod, regions: [us-east-1], quotas: {{{NOVA}: {{tpm: 60000, rpm: 100}}}}}}
    - {{id: "{DENIED}", name: data-science, regions: [us-east-1], assume_role: deny}}
    - {{id: "{UNLINKED}", name: legacy, regions: [us-east-1], link: false}}
"""
API_MONITORING, API_SEARCH, API_PAYMENTS = "100000000009", "300000000002", "300000000001"
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def fleet_config(text: str = FLEET):
    return parse_sandbox_config(load_yaml("fleet-test.yaml", text), "fleet-test.yaml")


@pytest.fixture(scope="module")
def fleet():
    from tierconsole.sandbox.app import Sandbox, SandboxThread

    thread = SandboxThread(Sandbox(fleet_config(), speed=50.0))
    thread.start()
    yield thread.sandbox
    thread.stop()


def client(sb, service: str, account: str | None = None, region: str = "us-east-1", config=NO_RETRY, **creds):
    key, secret = account_credentials(account)
    creds = creds or {"aws_access_key_id": key, "aws_secret_access_key": secret}
    return boto3.client(service, endpoint_url=sb.endpoint, region_name=region, config=config, **creds)


def converse(sb, account: str | None, region: str = "us-east-1", n: int = 1) -> None:
    rt = client(sb, "bedrock-runtime", account, region)
    for _ in range(n):
        rt.converse(modelId=NOVA, messages=user("hello"), inferenceConfig={"maxTokens": 20})


def invocations(sb, account: str | None, query_account: str | None, region: str = "us-east-1") -> dict:
    cw = client(sb, "cloudwatch", account, region)
    now = datetime.now(timezone.utc)
    query = {"Id": "inv", "MetricStat": {"Metric": {"Namespace": "AWS/Bedrock", "MetricName": "Invocations",
                                                    "Dimensions": [{"Name": "ModelId", "Value": NOVA}]},
                                         "Period": 60, "Stat": "Sum"}}
    if query_account is not None:
        query["AccountId"] = query_account
    out = cw.get_metric_data(MetricDataQueries=[query], StartTime=now - timedelta(hours=4),
                             EndTime=now + timedelta(hours=1))
    return out["MetricDataResults"][0]


def wait_for(fn, what: str, timeout: float = 15.0):
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def error_code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


# ---------------------------------------------------------------------- accounts and regions

def test_the_credential_picks_the_account(fleet):
    assert client(fleet, "sts").get_caller_identity()["Account"] == MONITORING
    assert client(fleet, "sts", PAYMENTS).get_caller_identity()["Account"] == PAYMENTS
    assert client(fleet, "sts", SEARCH, "us-east-1").get_caller_identity()["Account"] == SEARCH
    # A key the sandbox does not know acts in its default account, as the single-account sandbox takes any key;
    # a per-account key of an account it does not serve is no exception.
    other = client(fleet, "sts", aws_access_key_id="AKIDSOMEONE", aws_secret_access_key="x")
    assert other.get_caller_identity()["Account"] == MONITORING
    assert client(fleet, "sts", "999999999999").get_caller_identity()["Account"] == MONITORING


def test_each_account_has_its_own_quotas(fleet):
    def nova_tpm(account):
        quotas = client(fleet, "service-quotas", account).list_service_quotas(ServiceCode="bedrock")["Quotas"]
        (quota,) = [q for q in quotas if q["QuotaName"].startswith("On-demand model inference tokens per minute")]
        assert f":{account or MONITORING}:" in quota["QuotaArn"]
        return quota["Value"]

    assert nova_tpm(SEARCH) == 60000
    assert nova_tpm(PAYMENTS) == 120000
    assert nova_tpm(None) == 120000


def test_traffic_lands_in_its_account_and_region(fleet):
    converse(fleet, PAYMENTS, "us-west-2", n=3)
    got = wait_for(lambda: sum(invocations(fleet, PAYMENTS, None, "us-west-2")["Values"]), "payments' metrics")
    assert got == 3
    assert sum(invocations(fleet, PAYMENTS, None, "eu-west-1")["Values"]) == 0  # another region of it
    assert sum(invocations(fleet, SEARCH, None, "us-west-2")["Values"]) == 0  # another account there


def test_a_region_the_fleet_does_not_serve_is_refused(fleet):
    with pytest.raises(ClientError) as info:
        client(fleet, "sts", PAYMENTS, "ap-south-1").get_caller_identity()
    assert error_code(info) == "InvalidClientTokenId"
    assert "us-east-1, us-west-2, eu-west-1" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        converse(fleet, PAYMENTS, "ap-south-1")
    assert error_code(info) == "UnrecognizedClientException"


def test_batch_jobs_are_per_account(fleet):
    bedrock = client(fleet, "bedrock", PAYMENTS)
    assert bedrock.list_model_invocation_jobs()["invocationJobSummaries"] == []
    s3 = client(fleet, "s3", PAYMENTS)
    bucket = f"tierconsole-fleet-test-{PAYMENTS}"
    s3.put_object(Bucket=bucket, Key="in/a.jsonl", Body=b"".join(
        b'{"recordId": "r%d", "modelInput": {"messages": [{"role": "user", "content": [{"text": "x"}]}]}}\n' % i
        for i in range(100)))
    arn = bedrock.create_model_invocation_job(
        jobName="fleet-job", roleArn=f"arn:aws:iam::{PAYMENTS}:role/Batch", modelId=NOVA,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": f"s3://{bucket}/in/a.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/out/"}})["jobArn"]
    assert f":{PAYMENTS}:" in arn
    assert [j["jobArn"] for j in bedrock.list_model_invocation_jobs()["invocationJobSummaries"]] == [arn]
    assert client(fleet, "bedrock", SEARCH).list_model_invocation_jobs()["invocationJobSummaries"] == []
    assert client(fleet, "bedrock").list_model_invocation_jobs()["invocationJobSummaries"] == []


# ---------------------------------------------------------------------- STS into the fleet's accounts

def test_assume_role_from_the_monitoring_account_acts_in_the_source_account(fleet):
    creds = client(fleet, "sts").assume_role(RoleArn=f"arn:aws:iam::{SEARCH}:role/TierConsoleRead",
                                             RoleSessionName="tierconsole-fleet")["Credentials"]
    assumed = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                   aws_session_token=creds["SessionToken"])
    who = client(fleet, "sts", **assumed).get_caller_identity()
    assert who["Account"] == SEARCH and who["Arn"].endswith(":assumed-role/TierConsoleRead/tierconsole-fleet")
    quotas = client(fleet, "service-quotas", **assumed).list_service_quotas(ServiceCode="bedrock")["Quotas"]
    assert {q["Value"] for q in quotas if q["QuotaName"].startswith("On-demand model inference tokens")} == {60000}


@pytest.mark.parametrize("account", [DENIED, "999999999999"])
def test_assume_role_into_a_denied_or_unknown_account_is_access_denied(fleet, account):
    with pytest.raises(ClientError) as info:
        client(fleet, "sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/TierConsoleRead",
                                         RoleSessionName="tierconsole-fleet")
    assert error_code(info) == "AccessDenied"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_assumed_role_credentials_are_kept_bounded(fleet, monkeypatch):
    from moto.sts.models import sts_backends

    from tierconsole.sandbox import cells

    monkeypatch.setattr(cells, "MAX_ASSUMED_PER_ACCOUNT", 3)
    sts = client(fleet, "sts")
    keys = [sts.assume_role(RoleArn=f"arn:aws:iam::{PAYMENTS}:role/Bounded", RoleSessionName=f"s{i}")
            ["Credentials"]["AccessKeyId"] for i in range(6)]
    assert len(sts_backends[PAYMENTS]["aws"].assumed_roles) <= 3
    newest = client(fleet, "sts", aws_access_key_id=keys[-1], aws_secret_access_key="x")
    assert newest.get_caller_identity()["Account"] == PAYMENTS


# ---------------------------------------------------------------------- OAM and cross-account CloudWatch

def test_oam_auto_makes_a_sink_per_region_and_links_labelled_by_name(fleet):
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        oam = client(fleet, "oam", None, region)
        (sink,) = oam.list_sinks()["Items"]
        assert sink["Arn"].startswith(f"arn:aws:oam:{region}:{MONITORING}:sink/")
        links = oam.list_attached_links(SinkIdentifier=sink["Arn"])["Items"]
        expected = {"us-east-1": ["payments-prod", "search-prod", "data-science"],
                    "us-west-2": ["payments-prod"], "eu-west-1": []}[region]
        assert [link["Label"] for link in links] == expected  # legacy is not linked (link: false)
        assert all(link["ResourceTypes"] == ["AWS::CloudWatch::Metric"] for link in links)
    (mine,) = client(fleet, "oam", PAYMENTS).list_links()["Items"]
    assert mine["Label"] == "payments-prod" and f":{MONITORING}:sink/" in mine["SinkArn"]
    assert client(fleet, "oam", UNLINKED).list_links()["Items"] == []


def test_cross_account_get_metric_data_reads_linked_accounts_only(fleet):
    converse(fleet, SEARCH, n=2)
    converse(fleet, UNLINKED, n=2)
    linked = wait_for(lambda: (r := invocations(fleet, None, SEARCH)) and sum(r["Values"]) >= 2 and r, "search")
    assert linked["StatusCode"] == "Complete" and sum(linked["Values"]) == 2
    wait_for(lambda: sum(invocations(fleet, UNLINKED, None)["Values"]) >= 2, "legacy's own metrics")
    for account in (UNLINKED, "999999999999"):  # not linked; not an account at all
        result = invocations(fleet, None, account)
        assert (result["StatusCode"], result["Values"]) == ("Forbidden", [])
        assert [m["Code"] for m in result["Messages"]] == ["Forbidden"]
    assert invocations(fleet, None, SEARCH, "us-west-2")["StatusCode"] == "Forbidden"  # not linked there
    # A source account reading another source account is not a monitoring account.
    assert invocations(fleet, PAYMENTS, SEARCH)["StatusCode"] == "Forbidden"
    # Its own id in AccountId is its own data.
    assert sum(invocations(fleet, SEARCH, SEARCH)["Values"]) == 2


def test_list_metrics_include_linked_accounts_names_the_owners(fleet):
    converse(fleet, PAYMENTS)
    converse(fleet, UNLINKED)
    cw = client(fleet, "cloudwatch")

    def owners(**kw):
        out = cw.list_metrics(Namespace="AWS/Bedrock", MetricName="Invocations", **kw)
        assert len(out.get("OwningAccounts", out["Metrics"])) == len(out["Metrics"])
        return out

    found = wait_for(lambda: PAYMENTS in owners(IncludeLinkedAccounts=True).get("OwningAccounts", []), "payments")
    assert found
    out = owners(IncludeLinkedAccounts=True)
    assert UNLINKED not in out["OwningAccounts"]
    only = owners(IncludeLinkedAccounts=True, OwningAccount=PAYMENTS)
    assert set(only["OwningAccounts"]) == {PAYMENTS} and only["Metrics"]
    plain = cw.list_metrics(Namespace="AWS/Bedrock", MetricName="Invocations")
    assert "OwningAccounts" not in plain and plain["Metrics"] == []  # the monitoring account has no traffic


def test_oam_api_links_a_new_account_and_refuses_bad_input():
    from tierconsole.sandbox.app import Sandbox, SandboxThread

    # Accounts of its own: moto's backends are per process, so another sandbox of the same accounts would share
    # (and, at its start, purge) the module fleet's metrics.
    text = FLEET.replace("oam: auto", "oam: none").replace('"2000', '"3000').replace(MONITORING, API_MONITORING)
    thread = SandboxThread(Sandbox(fleet_config(text.replace("tierconsole-fleet-test", "tierconsole-fleet-api")),
                                   speed=50.0))
    sb = thread.sandbox
    thread.start()
    try:
        monitoring, source = client(sb, "oam"), client(sb, "oam", API_SEARCH)
        sink = monitoring.create_sink(Name="fleet", Tags={"team": "sre"})
        with pytest.raises(ClientError) as info:  # one sink per region
            monitoring.create_sink(Name="another")
        assert error_code(info) == "ServiceQuotaExceededException"
        link = dict(SinkIdentifier=sink["Arn"], LabelTemplate="$AccountName", ResourceTypes=["AWS::CloudWatch::Metric"])
        with pytest.raises(ClientError) as info:  # the sink's policy does not admit it yet
            source.create_link(**link)
        assert error_code(info) == "InvalidParameterException"
        monitoring.put_sink_policy(SinkIdentifier=sink["Arn"], Policy='{"Version": "2012-10-17", "Statement": '
                                   '[{"Effect": "Allow", "Principal": {"AWS": ["%s"]}, "Action": ["oam:CreateLink"], '
                                   '"Resource": "*"}]}' % API_SEARCH)
        with pytest.raises(ClientError) as info:
            source.create_link(**link, LinkConfiguration={"MetricConfiguration": {"Filter": "Namespace LIKE 'x'"}})
        assert error_code(info) == "InvalidParameterException"
        made = source.create_link(**link, LinkConfiguration={
            "MetricConfiguration": {"Filter": "Namespace IN ('AWS/Bedrock')"}})
        assert made["Label"] == "search-prod" and made["Arn"].startswith(f"arn:aws:oam:us-east-1:{API_SEARCH}:link/")
        with pytest.raises(ClientError) as info:
            source.create_link(**link)
        assert error_code(info) == "ConflictException"
        attached = monitoring.list_attached_links(SinkIdentifier=sink["Arn"])["Items"]
        assert [a["LinkArn"] for a in attached] == [made["Arn"]]
        with pytest.raises(ClientError) as info:  # not in the policy
            client(sb, "oam", API_PAYMENTS).create_link(**link)
        assert error_code(info) == "InvalidParameterException"
        converse(sb, API_SEARCH)
        assert wait_for(lambda: sum(invocations(sb, None, API_SEARCH)["Values"]), "linked through the API") == 1
        source.delete_link(Identifier=made["Arn"])
        assert invocations(sb, None, API_SEARCH)["StatusCode"] == "Forbidden"
        with pytest.raises(ClientError) as info:
            monitoring.get_sink(Identifier=f"arn:aws:oam:us-east-1:{API_MONITORING}:sink/nope")
        assert error_code(info) == "ResourceNotFoundException"
        raw = client(sb, "oam", None, config=NO_RETRY.merge(Config(parameter_validation=False)))
        with pytest.raises(ClientError) as info:
            raw.create_link(LabelTemplate="$AccountName", ResourceTypes=["AWS::CloudWatch::Metric"])
        assert error_code(info) == "MissingRequiredParameterException"
        with pytest.raises(ClientError) as info:
            raw.list_sinks(MaxResults=101)
        assert error_code(info) == "InvalidParameterException"
        with pytest.raises(ClientError) as info:
            raw.list_sinks(NextToken="not-a-token")
        assert error_code(info) == "InvalidParameterException"
    finally:
        thread.stop()


# ---------------------------------------------------------------------- the shipped fleet and the single sandbox

def test_the_shipped_fleet_config_has_calm_hot_and_throttling_accounts():
    cfg = load_sandbox_config_of("fleet")
    fleet = cfg.fleet
    assert len(fleet.accounts) >= 12 and len(fleet.regions) == 3
    scenarios = {s for a in fleet.accounts for s in a.scenarios.values()}
    assert {"calm", "hot", "spike"} <= scenarios
    assert len({a.name for a in fleet.accounts}) == len(fleet.accounts)


def load_sandbox_config_of(name: str):
    from importlib import resources

    ref = resources.files("tierconsole.profiles").joinpath(f"{name}.yaml")
    return parse_sandbox_config(load_yaml(f"profiles/{name}.yaml", ref.read_text()), f"profiles/{name}.yaml")


def test_the_single_account_sandbox_takes_every_key_as_its_one_account(sandbox):
    account = sandbox.sandbox.config.account_id
    for key in ("sandbox", "sandbox-200000000001", "AKIDANY"):
        sts = boto3.client("sts", endpoint_url=sandbox.endpoint, region_name="us-west-2", aws_access_key_id=key,
                           aws_secret_access_key="x", config=NO_RETRY)
        assert sts.get_caller_identity()["Account"] == account
    assert load_sandbox_config().fleet is None
    assert {cell_account for (cell_account, _), _ in sandbox.sandbox.cells} == {account}  # us-west-2's cell too


def test_faults_can_hit_one_account_or_one_region(fleet):
    from tierconsole.sandbox.faults import parse_faults

    fleet.faults.rules = parse_faults(f"denied:servicequotas+account={SEARCH},503:monitoring+region=us-west-2")
    try:
        with pytest.raises(ClientError) as info:
            client(fleet, "service-quotas", SEARCH).list_service_quotas(ServiceCode="bedrock")
        assert error_code(info) == "AccessDeniedException"
        assert client(fleet, "service-quotas", PAYMENTS).list_service_quotas(ServiceCode="bedrock")["Quotas"]
        with pytest.raises(ClientError) as info:
            invocations(fleet, None, PAYMENTS, "us-west-2")
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert invocations(fleet, None, PAYMENTS, "us-east-1")["StatusCode"] == "Complete"
    finally:
        fleet.faults.rules = []


def test_metrics_insights_groups_by_account_across_linked_accounts(fleet):
    converse(fleet, SEARCH, n=2)
    converse(fleet, PAYMENTS, n=1)
    converse(fleet, UNLINKED, n=1)
    cw = client(fleet, "cloudwatch")
    now = datetime.now(timezone.utc)
    span = {"StartTime": now - timedelta(hours=4), "EndTime": now + timedelta(hours=1)}
    select = {"Id": "fleet", "Period": 60, "Expression": 'SELECT SUM(Invocations) FROM SCHEMA("AWS/Bedrock", ModelId) '
                                                        "GROUP BY AWS.AccountId, ModelId ORDER BY SUM() DESC LIMIT 50"}

    def grouped():
        out = cw.get_metric_data(MetricDataQueries=[select], **span)["MetricDataResults"]
        assert all(r["Id"] == "fleet" for r in out)
        return {r["Label"]: sum(r["Values"]) for r in out}

    wait_for(lambda: f"{SEARCH} {NOVA}" in grouped() and f"{PAYMENTS} {NOVA}" in grouped(), "both accounts")
    time.sleep(1.5)  # the last outcomes flushed (once a second)
    got = grouped()
    assert set(got) == {f"{SEARCH} {NOVA}", f"{PAYMENTS} {NOVA}"}  # legacy is not linked; the monitoring is idle
    for account in (SEARCH, PAYMENTS):  # the same figures as ordinary queries of each account
        assert got[f"{account} {NOVA}"] == sum(invocations(fleet, None, account)["Values"]) > 0
    ranked = cw.get_metric_data(MetricDataQueries=[select], **span)["MetricDataResults"]
    sums = [sum(r["Values"]) for r in ranked]
    assert sums == sorted(sums, reverse=True)
    one = {**select, "Expression": select["Expression"].replace("GROUP BY AWS.AccountId, ModelId",
                                                                 f"WHERE AWS.AccountId = '{SEARCH}' GROUP BY ModelId")}
    (only,) = cw.get_metric_data(MetricDataQueries=[one], **span)["MetricDataResults"]
    assert only["Label"] == NOVA and sum(only["Values"]) == got[f"{SEARCH} {NOVA}"]


@pytest.mark.parametrize("expression", ["SELECT SUM(Invocations) FROM", "SELECT PERCENTILE(Invocations) FROM x",
                                        'SELECT SUM(Invocations) FROM "AWS/Bedrock" LIMIT 501',
                                        'SELECT SUM(Invocations) FROM "AWS/Bedrock" HAVING x'])
def test_metrics_insights_the_sandbox_cannot_read_is_refused_not_guessed(fleet, expression):
    cw = client(fleet, "cloudwatch")
    now = datetime.now(timezone.utc)
    with pytest.raises(ClientError) as info:
        cw.get_metric_data(MetricDataQueries=[{"Id": "q", "Period": 60, "Expression": expression}],
                           StartTime=now - timedelta(hours=1), EndTime=now)
    assert error_code(info) == "InvalidParameterValue" and "Metrics Insights" in info.value.response["Error"]["Message"]
    two = [{"Id": f"q{i}", "Period": 60, "Expression": 'SELECT SUM(Invocations) FROM "AWS/Bedrock"'} for i in (1, 2)]
    with pytest.raises(ClientError) as info:
        cw.get_metric_data(MetricDataQueries=two, StartTime=now - timedelta(hours=1), EndTime=now)
    assert error_code(info) == "InvalidParameterValue"


def test_with_auth_assumed_role_keys_are_verified_too(make_sandbox):
    keys = {"fleet-admin": "s3cret-admin"}
    cfg = fleet_config(FLEET.replace('"2000', '"4000').replace(MONITORING, "100000000008")
                       .replace("tierconsole-fleet-test", "tierconsole-fleet-auth"))
    sb = make_sandbox(cfg, speed=50.0, auth_keys=keys).sandbox
    sts = client(sb, "sts", aws_access_key_id="fleet-admin", aws_secret_access_key="s3cret-admin")
    creds = sts.assume_role(RoleArn="arn:aws:iam::400000000002:role/Read", RoleSessionName="fleet")["Credentials"]
    assumed = client(sb, "sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                     aws_session_token=creds["SessionToken"])
    assert assumed.get_caller_identity()["Account"] == "400000000002"
    forged = client(sb, "sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as info:
        forged.get_caller_identity()
    assert error_code(info) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as info:  # an unknown key, as before
        client(sb, "sts", "400000000002").get_caller_identity()
    assert error_code(info) == "InvalidClientTokenId"


def test_sinks_are_bounded_even_where_any_region_is_taken(sandbox, monkeypatch):
    """The single-account sandbox serves every region botocore lists for Bedrock: sinks are capped across them."""
    from tierconsole.sandbox.services import oam

    monkeypatch.setattr(oam, "MAX_SINKS", 3)
    made = [boto3.client("oam", endpoint_url=sandbox.endpoint, region_name=region, aws_access_key_id="a",
                         aws_secret_access_key="b", config=NO_RETRY).create_sink(Name="s")["Arn"]
            for region in ("us-west-2", "eu-west-1", "ap-south-1")]
    assert len(made) == 3
    with pytest.raises(ClientError) as info:
        boto3.client("oam", endpoint_url=sandbox.endpoint, region_name="eu-central-1", aws_access_key_id="a",
                     aws_secret_access_key="b", config=NO_RETRY).create_sink(Name="s")
    assert error_code(info) == "ServiceQuotaExceededException"


def test_metrics_insights_beside_a_linked_account_s_query_returns_every_group(fleet):
    """Each Insights group is a result of its own, all with the query's Id, also when the call carries another
    account's MetricStat (the fleet's call 0). The sandbox kept one result per Id there: the bare series of
    eu-retail's Nova Lite went missing and the fleet showed ``30.6 (P 7.9)`` (newcomer-4 F2/F4)."""
    rt = client(fleet, "bedrock-runtime", SEARCH)
    rt.converse(modelId=NOVA, messages=user("std"), inferenceConfig={"maxTokens": 20})
    rt.converse(modelId=NOVA, messages=user("pri"), inferenceConfig={"maxTokens": 20}, serviceTier={"type": "priority"})
    cw = client(fleet, "cloudwatch")
    now = datetime.now(timezone.utc)
    span = {"StartTime": now - timedelta(hours=4), "EndTime": now + timedelta(hours=1)}
    select = {"Id": "insights", "Period": 60, "Expression": 'SELECT SUM(Invocations) FROM SCHEMA("AWS/Bedrock", '
              f"ModelId) WHERE AWS.AccountId = '{SEARCH}' GROUP BY AWS.AccountId, ModelId ORDER BY SUM() DESC"}
    beside = {"Id": "a0_m0_i", "AccountId": SEARCH, "MetricStat": {"Metric": {
        "Namespace": "AWS/Bedrock", "MetricName": "Invocations", "Dimensions": [{"Name": "ModelId", "Value": NOVA}]},
        "Period": 60, "Stat": "Sum"}}
    wanted = {f"{SEARCH} {NOVA}", f"{SEARCH} {NOVA}+priority"}

    def labels(queries):
        return {r["Label"] for r in cw.get_metric_data(MetricDataQueries=queries, **span)["MetricDataResults"]
                if r["Id"] == "insights"}

    wait_for(lambda: wanted <= labels([select]), "both series")
    assert labels([beside, select]) == labels([select]) >= wanted
