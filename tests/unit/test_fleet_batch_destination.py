"""A fleet drill-in's batch destination is the drilled account's own (newcomer-5 F1): its access rule's
``batch_bucket`` / ``batch_role_arn`` on AWS, ``<sandbox.bucket>-<account>`` on the fleet sandbox; with none
configured a submit is refused in the action core (audited), naming the setting, and never falls back to the
monitoring account's bucket."""
from __future__ import annotations

import asyncio
import json

import pytest

from tierconsole.core.aws.fleet_access import account_profile
from tierconsole.core.config.profiles import _load
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.ops.batch import NoBatchDestination, destination, submit_batch, submit_batch_s3
from tierconsole.core.ops.guard import Guard

ACCOUNT = "222233334444"
AWS_FLEET = """\
name: prod-fleet
aws_profile: observability
regions: [us-east-1]
s3_input_prefix: s3://monitoring-bucket/in/
s3_output_prefix: s3://monitoring-bucket/out/
batch_role_arn: arn:aws:iam::111111111111:role/MonitoringBatch
fleet:
  access:
{rules}
"""
OPERATOR = '    - {match: "2222*", role_arn: "arn:aws:iam::{account}:role/Operator"'


def fleet(rules: str):
    return _load("prod-fleet", "/p/prod-fleet.yaml", "user", AWS_FLEET.format(rules=rules))


def drilled(rules: str, index: int = 0):
    p = fleet(rules)
    assert p.fleet is not None
    return account_profile(p, p.fleet.access[index], ACCOUNT, "payments", "us-east-1")


def test_an_aws_rule_s_batch_bucket_and_role_are_the_drilled_account_s_own():
    p = drilled(OPERATOR + ', batch_bucket: "acme-batch-{account}", '
                           'batch_role_arn: "arn:aws:iam::{account}:role/Batch"}')
    dest = destination(Guard(p, audit_path=None, account_id=ACCOUNT), None)  # type: ignore[arg-type]
    assert (dest.input_prefix, dest.output_prefix, dest.role_arn) == (
        f"s3://acme-batch-{ACCOUNT}/input/", f"s3://acme-batch-{ACCOUNT}/output/", f"arn:aws:iam::{ACCOUNT}:role/Batch")


@pytest.mark.parametrize("s3", [False, True])
def test_no_batch_bucket_for_a_drilled_account_is_refused_below_the_ui_and_audited(tmp_path, s3):
    p = drilled(OPERATOR + "}")
    audit = tmp_path / "audit.jsonl"
    guard = Guard(p, audit, account_id=ACCOUNT)
    path = tmp_path / "rec.jsonl"
    path.write_text("{}\n")
    with pytest.raises(NoBatchDestination) as err:
        # refused before any client is asked for: no context is needed to prove nothing reached an account
        if s3:
            asyncio.run(submit_batch_s3(None, guard, "s3://monitoring-bucket/in/x.jsonl", "m"))  # type: ignore[arg-type]
        else:
            asyncio.run(submit_batch(None, guard, str(path), "m"))  # type: ignore[arg-type]
    message = str(err.value)
    assert f"account {ACCOUNT}" in message and "fleet.access[0].batch_bucket" in message
    assert "/p/prod-fleet.yaml" in message and "monitoring-bucket" not in message
    entry = json.loads(audit.read_text())
    assert entry["action"] == "batch-submit" and entry["account"] == ACCOUNT
    assert entry["outcome"].startswith("refused: no batch bucket")


@pytest.mark.parametrize("rule, field, says", [
    (OPERATOR + ', batch_bucket: "acme-{account}"}', "fleet.access[0]", "give both"),
    (OPERATOR + ', batch_bucket: "acme-batch", batch_role_arn: "arn:aws:iam::{account}:role/B"}',
     "fleet.access[0].batch_bucket", "{account}"),
    (OPERATOR + ', batch_bucket: "Acme_{account}", batch_role_arn: "arn:aws:iam::{account}:role/B"}',
     "fleet.access[0].batch_bucket", "S3 bucket name"),
    (OPERATOR + ', batch_bucket: "a-{account}", batch_role_arn: "arn:aws:iam::999999999999:role/B"}',
     "fleet.access[0].batch_role_arn", "names account 999999999999"),
])
def test_a_bad_batch_setting_is_refused_naming_the_field(rule, field, says):
    with pytest.raises(ConfigError) as err:
        fleet(rule)
    assert field in str(err.value) and says in str(err.value)


def test_a_fixed_bucket_is_allowed_for_a_rule_matching_one_account():
    p = drilled(f'    - {{match: "{ACCOUNT}", aws_profile: payments, batch_bucket: payments-batch, '
                f'batch_role_arn: "arn:aws:iam::{ACCOUNT}:role/B"}}')
    assert p.s3_input_prefix == "s3://payments-batch/input/" and p.fleet_account == ACCOUNT
