"""The fleet keys of a sandbox config (accounts, regions, oam): bad values name the file, line and field."""
from __future__ import annotations

import pytest

from tierconsole.core.config.loader import load_yaml
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.sandboxkeys import account_credentials, account_of_key
from tierconsole.sandbox.config import parse_sandbox_config

NOVA = "amazon.nova-lite-v1:0"
HEAD = f"""sandbox:
  account_id: "100000000000"
  bucket: tierconsole-fleet-unit     # S3 names are global in moto: not another test's default bucket
  regions: [us-east-1, us-west-2]
  models:
    - {{id: {NOVA}, name: Amazon Nova Lite, family: nova, tpm: 120000, rpm: 300, burndown: 1, max_output_tokens: 5000, output_tps: 100, ttft_ms: 10}}
  accounts:
"""


def parse(accounts: str, head: str = HEAD):
    return parse_sandbox_config(load_yaml("fleet.yaml", head + accounts), "fleet.yaml")


def test_accounts_regions_quotas_and_scenarios_are_read():
    cfg = parse('    - {id: "200000000001", name: payments, scenario: {us-west-2: hot}, '
                f'quotas: {{{NOVA}: {{tpm: 5000}}}}}}\n')
    (spec,) = cfg.fleet.accounts
    assert (spec.account_id, spec.name, spec.regions, dict(spec.scenarios)) == (
        "200000000001", "payments", ("us-east-1", "us-west-2"), {"us-west-2": "hot"})
    assert spec.catalog.models[0].tpm == 5000 and cfg.catalog.models[0].tpm == 120000
    assert spec.catalog.settings.policies is not cfg.catalog.settings.policies  # a scenario's tiers: stay in it


@pytest.mark.parametrize("accounts, line, path, words", [
    ('    - {id: "100000000000"}\n', 8, "sandbox.accounts[0].id", "is also sandbox.account_id"),
    ('    - {id: "2000"}\n', 8, "sandbox.accounts[0].id", "12 digits"),
    ('    - {id: "200000000001", regions: [eu-west-1]}\n', 8, "sandbox.accounts[0].regions[0]",
     "not one of sandbox.regions"),
    ('    - {id: "200000000001", quotas: {nope: {tpm: 1}}}\n', 8, "sandbox.accounts[0].quotas.nope", "not in"),
    (f'    - {{id: "200000000001", quotas: {{{NOVA}: {{tpm: -1}}}}}}\n', 8,
     f"sandbox.accounts[0].quotas.{NOVA}.tpm", "whole number"),
    ('    - {id: "200000000001", assume_role: maybe}\n', 8, "sandbox.accounts[0].assume_role", "allow or deny"),
    ('    - {id: "200000000001", colour: red}\n', 8, "sandbox.accounts[0].colour", "colour"),
    ('    - {id: "200000000001", scenario: {ap-south-1: hot}}\n', 8, "sandbox.accounts[0].scenario.ap-south-1",
     "not one of this account's regions"),
])
def test_bad_fleet_values_name_file_line_and_field(accounts, line, path, words):
    with pytest.raises(ConfigError) as info:
        parse(accounts)
    err = info.value
    assert (err.source, err.path) == ("fleet.yaml", path) and words in str(err)
    assert err.line == line


def test_oam_needs_accounts():
    with pytest.raises(ConfigError) as info:
        parse_sandbox_config(load_yaml("f.yaml", HEAD.replace("  accounts:\n", "  oam: auto\n")), "f.yaml")
    assert info.value.path == "sandbox.oam"


def test_regions_without_accounts_close_the_single_account_sandbox_s_regions():
    """``sandbox.regions`` alone: the regions the single-account sandbox serves (absent: every Bedrock region
    botocore lists), the home region one of them."""
    cfg = parse_sandbox_config(load_yaml("f.yaml", HEAD.replace("  accounts:\n", "")), "f.yaml")
    assert cfg.fleet is None and cfg.regions == ("us-east-1", "us-west-2")
    assert parse_sandbox_config(load_yaml("f.yaml", HEAD.replace("  accounts:\n", "").replace(
        "  regions: [us-east-1, us-west-2]\n", "")), "f.yaml").regions == ()
    with pytest.raises(ConfigError) as info:
        parse_sandbox_config(load_yaml("f.yaml", HEAD.replace("  accounts:\n", "").replace(
            "[us-east-1, us-west-2]", "[eu-west-1]")), "f.yaml")
    assert info.value.path == "sandbox.region" and "must be one of sandbox.regions" in str(info.value)


def test_an_unknown_account_scenario_fails_before_the_sandbox_serves():
    from tierconsole.sandbox.app import Sandbox

    cfg = parse('    - {id: "200000000001", scenario: no-such-scenario}\n')
    with pytest.raises(ConfigError) as info:
        Sandbox(cfg)
    assert info.value.path == "sandbox.accounts[0].scenario" and "no-such-scenario" in str(info.value)


def test_built_in_keys_name_their_account():
    assert account_credentials() == ("sandbox", "sandbox")
    key, _ = account_credentials("200000000001")
    assert account_of_key(key) == "200000000001"
    for other in ("sandbox", "sandbox-2000", "sandbox-２００００００００００１", "AKIDX", None):
        assert account_of_key(other) is None
