"""An access rule's ``console_profile`` is what a drill-in into its accounts runs with (reservations, models,
prices): it was parsed and then silently dropped — an option that meant nothing. A name no profile has refuses
the drill-in, naming the rule's field, rather than running with the fleet's defaults. Through the real profile
loader (a profile file under ``$XDG_CONFIG_HOME``) and the real ``drill_source``; no call leaves the process."""
from __future__ import annotations

import pytest

from tierconsole.core.config.profiles import _load
from tierconsole.core.domain.fleetrows import FleetRow
from tierconsole.core.ops.fleet import DrillRefused, drill_source
from tierconsole.core.source import LiveSource

PAYMENTS, NOVA, REGION = "200000000001", "amazon.nova-lite-v1:0", "us-east-1"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"

FLEET = f"""
name: mini-fleet
regions: [{REGION}]
fleet:
  access:
    - match: "{PAYMENTS}"
      role_arn: "arn:aws:iam::{{account}}:role/TierConsoleOperator"
      console_profile: {{console}}
"""
PAYMENTS_PROFILE = f"""
region: {REGION}
reservations:
  - id: payments-own-1
    model: {SONNET}
    input_tpm: 50000
    output_tpm: 5000
"""


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(var, str(tmp_path / var))
    profiles = tmp_path / "XDG_CONFIG_HOME" / "tierconsole" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "payments.yaml").write_text(PAYMENTS_PROFILE)
    return profiles


def drilled(console: str):
    fleet = LiveSource(_load("mini-fleet", "mini-fleet.yaml", "user", FLEET.replace("{console}", console)),
                       endpoint_url="http://127.0.0.1:9")  # never called: nothing is started beyond the context
    fleet.start()
    row = FleetRow(account_id=PAYMENTS, account_name="payments-prod", region=REGION, series=NOVA, model_id=NOVA,
                   route="on_demand", tpm_used=None, rpm_used=None, throttles_per_min=None)
    return drill_source(fleet, row)


def test_a_rule_s_console_profile_gives_the_drilled_account_its_reservations(config_home):
    source = drilled("payments")
    assert [r.reservation_id for r in source.profile.reservations] == ["payments-own-1"], source.profile.reservations


def test_a_console_profile_no_file_has_refuses_the_drill_in_naming_the_field(config_home):
    with pytest.raises(DrillRefused, match=r"fleet\.access\[0\]\.console_profile.*nosuch"):
        drilled("nosuch")
