"""A read-only refusal names what made the console read-only (newcomer-3 F-m, F-p): ``--read-only`` when it was
typed, the profile's ``read_only: true`` at file:line when the file says so (both when both), the fleet access
rule that says so, or an ad-hoc AWS config profile — never "profile X is read-only" for a flag the user typed.
The refusal is the guard's (core/ops), so every mutating action and the TUI say the same."""
from __future__ import annotations

import json

import pytest

from tierconsole.core.config.profiles import load_profile
from tierconsole.core.ops.guard import Guard, ReadOnlyError, read_only_reason
from tierconsole.core.source import LiveSource


@pytest.fixture
def profiles(tmp_path, monkeypatch):
    cfg = tmp_path / "config"
    folder = cfg / "tierconsole" / "profiles"
    folder.mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    monkeypatch.delenv("TIERCONSOLE_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return folder


def refusal(profile, tmp_path, prompt: bool = False) -> str:
    guard = Guard(profile, tmp_path / "audit.jsonl")
    with pytest.raises(ReadOnlyError) as e:
        guard.require_prompt("m") if prompt else guard.require_mutation("batch-cancel", "job")
    return str(e.value)


def test_the_flag_is_named_never_the_profile(tmp_path, profiles):
    profile = LiveSource(load_profile("sandbox"), read_only=True).profile
    text = refusal(profile, tmp_path)
    assert text == "batch-cancel refused: --read-only was given", text
    prompt = refusal(profile, tmp_path, prompt=True)
    assert prompt.startswith("test prompts refused: --read-only was given, and profile 'sandbox' does not set "
                             "allow_prompts_in_read_only: true"), prompt
    assert "is read-only" not in text + prompt
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(a["outcome"], a["detail"]["cause"]) for a in audit] == [("refused: read-only", "--read-only was given")] * 2


def test_the_profiles_own_setting_is_named_with_file_and_line(tmp_path, profiles):
    (profiles / "ops.yaml").write_text("name: ops\nregion: us-east-1\n\nread_only: true\n")
    text = refusal(load_profile("ops"), tmp_path)
    assert text == f"batch-cancel refused: profile 'ops' sets read_only: true ({profiles / 'ops.yaml'}:4)", text


def test_both_causes_are_named_when_both_hold(tmp_path, profiles):
    (profiles / "ops.yaml").write_text("name: ops\nread_only: true\n")
    profile = LiveSource(load_profile("ops"), read_only=True).profile
    assert read_only_reason(profile) == (f"--read-only was given, and profile 'ops' sets read_only: true "
                                         f"({profiles / 'ops.yaml'}:2)")


def test_a_fleet_access_rule_is_named(tmp_path, profiles):
    from tierconsole.core.aws.fleet_access import account_profile
    from tierconsole.core.domain.fleetspec import AccessRule

    (profiles / "fl.yaml").write_text("name: fl\nfleet:\n  access:\n    - match: '1111*'\n      aws_profile: a\n"
                                      "    - match: '*'\n      role_arn: arn:aws:iam::{account}:role/R\n"
                                      "      read_only: true\n")
    monitoring = load_profile("fl")
    rule = monitoring.fleet.access[1]
    assert isinstance(rule, AccessRule) and rule.read_only is True
    profile = account_profile(monitoring, rule, "222222222222", "payments", "us-east-1")
    assert read_only_reason(profile) == (f"profile 'fl' sets fleet.access[1].read_only: true "
                                         f"({profiles / 'fl.yaml'}:8)")
    assert read_only_reason(account_profile(monitoring, monitoring.fleet.access[0], "111122223333", "x",
                                            "us-east-1")) == ""


def test_an_ad_hoc_aws_config_profile_says_so(tmp_path):
    from tierconsole.tui.screens.profile_switcher import adhoc_profile

    text = refusal(adhoc_profile("prod", "us-west-2"), tmp_path)
    assert "ad-hoc" in text and "~/.aws/config" in text and "read_only: true" not in text, text


def test_a_profile_that_is_not_read_only_has_no_reason(profiles):
    assert read_only_reason(load_profile("sandbox")) == ""
