"""Profiles: discovery, precedence, and errors that name file, line and field."""
from __future__ import annotations

import subprocess
from pathlib import Path
import sys

import pytest

from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.config.profiles import discover, load_profile


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    cfg = tmp_path / "config"
    (cfg / "tierconsole" / "profiles").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    monkeypatch.delenv("TIERCONSOLE_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./profiles here
    return cfg / "tierconsole" / "profiles"


def test_builtin_sandbox_is_the_fallback(xdg):
    p = load_profile()
    assert p.name == "sandbox" and p.is_sandbox and p.origin == "built-in"
    assert p.reservations[0].input_tpm == 100_000 and p.reservations[0].output_tpm == 10_000
    assert "aws-template" in discover()


def test_precedence_flag_env_default(xdg, monkeypatch):
    (xdg / "prod.yaml").write_text("region: eu-west-1\ndefault: true\n")
    (xdg / "staging.yaml").write_text("region: us-west-2\n")
    assert load_profile().name == "prod"
    monkeypatch.setenv("TIERCONSOLE_PROFILE", "staging")
    assert load_profile().region == "us-west-2"
    assert load_profile("sandbox").name == "sandbox"
    with pytest.raises(ConfigError, match="no profile named 'nope'"):
        load_profile("nope")


def test_user_profile_overrides_builtin_of_same_name(xdg):
    (xdg / "sandbox.yaml").write_text("sandbox: {}\nendpoint_url: http://127.0.0.1:4599\nregion: ap-south-1\n")
    p = load_profile("sandbox")
    assert p.origin == "user" and p.region == "ap-south-1"


@pytest.mark.parametrize("text, where", [
    ("region: [1, 2\n", ":2: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence started at line 1)"),
    ("region: us-east-1\nrefresh_seconds: soon\n", ":2: refresh_seconds: must be float"),
    ("region: us-east-1\nreservations:\n  - model: m\n    input_tpm: 5\n", ":3: reservations[0].output_tpm: is required"),
    ("regoin: us-east-1\n", ":1: regoin: unknown key"),
    ("alert_threshold: 5\n", ":1: alert_threshold: must be a fraction"),
    ("quota_names:\n  amazon.nova-lite-v1:0: [3]\n", "quota_names.amazon.nova-lite-v1:0: must be a name or a list"),
    ("quota_names: [a]\n", ":1: quota_names: must be a mapping"),
    ("- just\n- a list\n", "must be a mapping"),
])
def test_broken_profiles_name_file_line_and_field(xdg, text, where):
    path = xdg / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_profile("broken")
    assert str(err.value).startswith(str(path)) and where in str(err.value), str(err.value)
    assert discover()["broken"].error is not None


def test_profiles_command_lists_origins_and_fails_on_broken(xdg):
    (xdg / "mine.yaml").write_text("region: us-east-1\n")
    env_run = lambda: subprocess.run([sys.executable, "-m", "tierconsole.cli", "profiles"], capture_output=True,
                                     text=True, timeout=60)
    out = env_run()
    assert out.returncode == 0
    assert any(line.startswith("mine") and "user" in line for line in out.stdout.splitlines())
    assert any(line.startswith("sandbox") and "built-in" in line for line in out.stdout.splitlines())
    (xdg / "bad.yaml").write_text("refresh_seconds: x\n")
    out = env_run()
    assert out.returncode == 1 and "bad.yaml:1: refresh_seconds" in out.stdout


def test_read_only_refuses_prompts_unless_the_profile_allows_them():
    """Newcomer defect 3: a read-only profile refuses test prompts by default (they spend the shared
    production quota); ``allow_prompts_in_read_only: true`` allows them, and the AWS template says so."""
    from tierconsole.core.domain.profile import Profile, parse_profile

    assert parse_profile({"read_only": True}, default_name="p").allow_prompts_in_read_only is False
    assert Profile(name="p").allow_prompts_in_read_only is False
    assert parse_profile({"read_only": True, "allow_prompts_in_read_only": True},
                         default_name="p").allow_prompts_in_read_only is True
    template = Path(__file__).resolve().parents[2] / "profiles" / "aws-template.yaml"
    text = template.read_text()
    assert "allow_prompts_in_read_only: true" in text
    line = next(x for x in text.splitlines() if x.startswith("allow_prompts_in_read_only"))
    assert "#" in line and "quota" in line  # the comment says what it allows


def test_an_ad_hoc_profile_from_the_aws_config_is_read_only_and_refuses_prompts():
    """A profile picked from ~/.aws/config may be production: read-only, and no test prompt drawing on its quota
    unless a real profile says allow_prompts_in_read_only: true."""
    from tierconsole.tui.screens.profile_switcher import adhoc_profile

    p = adhoc_profile("prod", "us-west-2")
    assert (p.read_only, p.allow_prompts_in_read_only, p.regions) == (True, False, ("us-west-2",))


def test_two_default_profiles_are_an_error_naming_both_files(xdg):
    """newcomer-2 #8: two ``default: true`` profiles were silently resolved (the later won)."""
    (xdg / "d1.yaml").write_text("name: d1\nregion: us-east-1\ndefault: true\n")
    (xdg / "d2.yaml").write_text("name: d2\nregion: us-west-2\ndefault: true\n")
    with pytest.raises(ConfigError) as err:
        load_profile()
    assert str(xdg / "d1.yaml") in str(err.value) and str(xdg / "d2.yaml") in str(err.value), str(err.value)
    assert load_profile("d2").name == "d2"  # naming one still works
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "profiles"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1, out.stdout
    assert "default: true" in out.stdout and "d1.yaml" in out.stdout and "d2.yaml" in out.stdout, out.stdout


def test_profiles_reports_an_empty_sandbox_section_that_fails_on_use(xdg):
    """newcomer-2 #8: ``sandbox: {}`` / ``sandbox.models: []`` without an endpoint was listed as fine, and failed
    on use (the console starts a sandbox from that section)."""
    (xdg / "empty.yaml").write_text("region: us-east-1\nsandbox: {}\n")
    (xdg / "nomodels.yaml").write_text("region: us-east-1\nsandbox:\n  models: []\n")
    entries = discover()
    for name in ("empty", "nomodels"):
        assert entries[name].error is not None and "sandbox.models" in str(entries[name].error), entries[name]
        with pytest.raises(ConfigError, match="sandbox.models"):
            load_profile(name)


@pytest.mark.parametrize("broken, line, words", [
    ("region: us-east-1\nalert_bel: true\ndefault: true\n", 2, "alert_bel"),  # an unknown key
    ("region: us-east-1\ndefault: true\ntimeouts:\n  calls: 5\n   connect: 3\n", 5, ""),  # bad indentation
])
def test_a_broken_default_profile_is_an_error_not_a_silent_fallback(xdg, broken, line, words):
    """newcomer-3: the operator's `default: true` profile, once broken, was skipped without a word and
    `status` ran on the sandbox with exit 0 (a cron --fail-over on prod would watch the sandbox, green)."""
    (xdg / "ops.yaml").write_text(broken)
    (xdg / "other.yaml").write_text("region: us-west-2\n")
    with pytest.raises(ConfigError) as err:
        load_profile()
    message = str(err.value)
    assert f"{xdg / 'ops.yaml'}:{line}" in message and words in message, message
    assert load_profile("other").name == "other"  # naming another still works
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "status"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "ops.yaml" in out.stderr and "Traceback" not in out.stderr, out


@pytest.mark.parametrize("value", ['"false"', "nope", '"yes"', "1"])
def test_default_must_be_true_or_false(xdg, value):
    """newcomer-3: `default: "false"` or `default: nope` made the profile the default."""
    (xdg / "ops.yaml").write_text(f"region: us-east-1\ndefault: {value}\n")
    with pytest.raises(ConfigError, match="default: must be bool"):
        load_profile("ops")
