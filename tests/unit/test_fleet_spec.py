"""The fleet profile (issue 15): how each source account is reached; bad input names file, line and field."""
from __future__ import annotations

import pytest

from tierconsole.core.config.profiles import _load
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.fleetspec import AccessRule, match_access, parse_fleet

GOOD = """\
name: prod-fleet
aws_profile: observability
regions: [us-east-1, us-west-2]
fleet:
  names: {"111122223333": payments}
  exclude: ["999999999999"]
  access:
    - match: "111122223333"
      aws_profile: payments-admin
      console_profile: payments
    - match: "label:team-*"
      role_arn: "arn:aws:iam::{account}:role/TierConsoleOperator"
      external_id: "x-1"
    - match: "*"
      role_arn: "arn:aws:iam::{account}:role/TierConsoleRead"
      read_only: true
  reservations:
    "111122223333": [{id: r1, model: amazon.nova-lite-v1:0, input_tpm: 100000, output_tpm: 10000}]
"""


def load(text: str):
    return _load("prod-fleet", "fleet.yaml", "user", text)


def test_a_fleet_profile_parses_with_its_rules_in_order():
    p = load(GOOD)
    f = p.fleet
    assert f is not None and p.refresh_seconds == 60.0  # a fleet's default cadence: metrics change once a minute
    assert [r.match for r in f.access] == ["111122223333", "label:team-*", "*"]
    assert f.names == {"111122223333": "payments"} and f.exclude == {"999999999999"}
    assert f.reserved_models("111122223333") == {"amazon.nova-lite-v1:0"}
    assert f.access[2].role_for("200000000001") == "arn:aws:iam::200000000001:role/TierConsoleRead"


def test_first_matching_rule_wins_by_id_then_label_then_glob():
    f = load(GOOD).fleet
    assert f.access_for("111122223333", "team-pay").aws_profile == "payments-admin"  # the id rule comes first
    assert f.access_for("200000000001", "team-ml").external_id == "x-1"
    assert f.access_for("200000000001", "other").read_only is True
    assert f.access_for("200000000001", None).match == "*"  # no label yet: never a label rule


def test_an_account_no_rule_matches_has_no_access():
    rules = (AccessRule(match="1111*", aws_profile="a"), AccessRule(match="label:prod-*", aws_profile="b"))
    assert match_access(rules, "222233334444", "dev-1") is None
    assert match_access(rules, "111100000000", None).aws_profile == "a"
    assert match_access(rules, "222233334444", "prod-eu").aws_profile == "b"


@pytest.mark.parametrize("section, line, needle", [
    ('fleet:\n  access:\n    - match: "*"\n', 3, "fleet.access[0]: give exactly one of aws_profile"),
    ('fleet:\n  access:\n    - match: "*"\n      aws_profile: a\n      role_arn: "arn:aws:iam::{account}:role/R"\n',
     3, "fleet.access[0]: give exactly one"),
    ('fleet:\n  access:\n    - match: "*"\n      role_arn: "arn:aws:iam::123456789012:role/R"\n', 4,
     "fleet.access[0].role_arn: names account 123456789012 but the rule matches '*'"),
    ('fleet:\n  access:\n    - match: "*"\n      role_arn: "role/R"\n', 4, "fleet.access[0].role_arn: must be an IAM role ARN"),
    ('fleet:\n  access:\n    - match: "prod"\n      aws_profile: a\n', 3, "fleet.access[0].match: must be an account id"),
    ('fleet:\n  access:\n    - match: "label:"\n      aws_profile: a\n', 3, "fleet.access[0].match: label: needs"),
    ('fleet:\n  names: {"12345": x}\n', 2, "fleet.names.12345: must be a 12-digit AWS account id"),
    ('fleet:\n  exclude: [123456789012]\n', 2, "fleet.exclude[0]: must be a 12-digit AWS account id in quotes"),
    ('fleet:\n  access: {match: "*"}\n', 2, "fleet.access: must be a list of rules"),
    ('fleet:\n  acess: []\n', 2, "fleet.acess: unknown key"),
    ('fleet:\n  access:\n    - match: "*"\n      aws_profile: a\n      external_id: z\n', 5,
     "fleet.access[0].external_id: applies to role_arn only"),
    ('fleet:\n  reservations:\n    "111122223333": [{model: m}]\n', 3, "input_tpm: is required"),
])
def test_bad_fleet_sections_name_file_line_and_field(section, line, needle):
    with pytest.raises(ConfigError) as e:
        load("name: f\n" + section)
    text = str(e.value)
    assert text.startswith(f"fleet.yaml:{line + 1}: "), text  # line 1 is the name; `line` is in the section
    assert needle in text, text


def test_a_rule_for_one_account_may_name_that_account_s_role():
    f = parse_fleet({"access": [{"match": "123456789012", "role_arn": "arn:aws:iam::123456789012:role/R"}]})
    assert f.access[0].role_for("123456789012") == "arn:aws:iam::123456789012:role/R"


def test_a_rule_is_described_with_the_role_it_assumes_for_that_account():
    """newcomer-4: access-denied messages named the template arn:aws:iam::{account}:role/... instead of the role
    that was tried."""
    rule = AccessRule(match="*", role_arn="arn:aws:iam::{account}:role/TierConsoleRead", index=1)
    assert rule.describe("200000000007") == "role arn:aws:iam::200000000007:role/TierConsoleRead (fleet.access[1])"
    assert "{account}" in rule.describe()  # with no account: the rule as written
