"""Numbers that overflow or never end (1e308, .inf, .nan, 400-digit delays, min > max) are refused
wherever the sandbox reads them — --speed, scenario files, the profile's sandbox section, --faults —
with a message naming the field (and file:line for YAML); nothing absurd gets through."""
from __future__ import annotations

import contextlib
import io
import math
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tierconsole.core.config.loader import load_yaml
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.sandbox.clock import MAX_SPEED, SandboxClock
from tierconsole.sandbox.config import S3_LIMIT_CEILINGS, parse_sandbox_config
from tierconsole.sandbox.faults import MAX_COUNT, MAX_DELAY_S, FaultSpecError, parse_faults
from tierconsole.sandbox.scenarios import load_scenario
from tierconsole.sandbox.scenarios.spec import MAX_SECONDS, parse_scenario

HOSTILE = [".inf", "-.inf", ".nan", "1e308", "9" * 400, "-" + "9" * 400, "1.0e+400"]


def _parse_cli(argv):
    from tierconsole.cli.main import build_parser
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            return build_parser().parse_args(argv), None, err.getvalue()
        except SystemExit as e:
            return None, e.code, err.getvalue()


@pytest.mark.parametrize("argv", [["sandbox"], ["record", "out.tcrec"]])
@pytest.mark.parametrize("value", ["1e308", str(MAX_SPEED * 10), "9" * 400, "inf", "nan", "0", "-1"])
def test_speed_over_the_limit_is_a_usage_error_everywhere(argv, value):
    args, code, err = _parse_cli([*argv, "--speed", value])
    assert args is None and code == 2 and "--speed" in err and "Traceback" not in err, err


def test_the_sandbox_clock_refuses_absurd_speeds_below_the_cli():
    for speed in (math.inf, math.nan, 1e308, MAX_SPEED * 2, 0, -1):
        with pytest.raises(ValueError, match="speed"):
            SandboxClock(speed)
    assert SandboxClock(MAX_SPEED).speed == MAX_SPEED


SCENARIO = """\
name: numbers
repeat: 300
tiers:
  flex: {max_wait_s: 600, speed_factor: 0.5, spurious_throttle_rate: 0.1}
tenants:
  - name: open
    model: amazon.nova-lite-v1:0
    tier: default
    rate: 0.5
    prompt_tokens: 100
    max_tokens: 100
    start: 1
    max_in_flight: 8
    backoff: 1
  - name: closed
    model: amazon.nova-lite-v1:0
    concurrency: 2
    prompt_tokens: 100
phases:
  - name: surge
    start: 20
    duration: 60
    multiplier: 4
    fault: {probability: 0.5, latency: 2}
"""
SCENARIO_NUMBERS = ["repeat", "tiers.flex.max_wait_s", "tiers.flex.speed_factor", "tiers.flex.spurious_throttle_rate",
                    "tenants[0].rate", "tenants[0].prompt_tokens", "tenants[0].max_tokens", "tenants[0].start",
                    "tenants[0].max_in_flight", "tenants[0].backoff", "tenants[1].concurrency", "phases[0].start",
                    "phases[0].duration", "phases[0].multiplier", "phases[0].fault.probability",
                    "phases[0].fault.latency"]


def _set(text: str, path: str, value: str) -> str:
    """The YAML text with the field at ``path`` set to the literal ``value`` (a YAML scalar)."""
    doc = yaml.safe_load(text)
    node = doc
    parts = re.findall(r"[^.\[\]]+", path)
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    node[parts[-1]] = "@@VALUE@@"
    return yaml.safe_dump(doc, sort_keys=False).replace("'@@VALUE@@'", value)


def _bad(err: ConfigError, source: str, path: str, *, exact: bool = True) -> None:
    """The error has file:line and names the field (or, for a rule between fields, the object holding it)."""
    text = str(err)
    assert re.match(rf"{re.escape(source)}:\d+: ", text), text
    assert path in text if exact else (path in text or path.rpartition(".")[0] + "." in text), text


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("path", SCENARIO_NUMBERS)
def test_scenario_numbers_that_overflow_or_never_end_are_refused_naming_file_line_and_field(tmp_path, path, value):
    f = tmp_path / "numbers.yaml"
    f.write_text(_set(SCENARIO, path, value))
    with pytest.raises(ConfigError) as err:
        load_scenario(str(f))
    _bad(err.value, str(f), path)


def test_the_scenario_fixture_itself_is_valid(tmp_path):
    f = tmp_path / "numbers.yaml"
    f.write_text(SCENARIO)
    assert load_scenario(str(f)).tenants[0].rate == 0.5


PROFILE = """\
sandbox:
  models:
    - id: amazon.nova-lite-v1:0
      name: Nova Lite
      tpm: 100000
      rpm: 100
      burndown: 1
      max_output_tokens: 1000
      output_tps: 100
      ttft_ms: 300
      tokens_per_day: 1000000
      batch_min_records: 10
      batch_max_records: 1000
      batch_records_per_minute: 60
  engine:
    seed: 7
    tiers:
      flex: {max_wait_s: 600, speed_factor: 0.6, spurious_throttle_rate: 0}
  s3: {max_buckets: 10, max_object_bytes: 1048576, max_total_bytes: 10485760, max_objects: 100,
       max_multipart_uploads: 5, max_parts_per_upload: 50}
reservations:
  - model: amazon.nova-lite-v1:0
    input_tpm: 100000
    output_tpm: 10000
    term_months: 1
    price_per_1k_tpm_month: 1.5
"""
PROFILE_NUMBERS = ["sandbox.models[0].tpm", "sandbox.models[0].rpm", "sandbox.models[0].burndown",
                   "sandbox.models[0].max_output_tokens", "sandbox.models[0].output_tps", "sandbox.models[0].ttft_ms",
                   "sandbox.models[0].tokens_per_day", "sandbox.models[0].batch_min_records",
                   "sandbox.models[0].batch_max_records", "sandbox.models[0].batch_records_per_minute",
                   "sandbox.engine.seed", "sandbox.engine.tiers.flex.max_wait_s", "sandbox.engine.tiers.flex.speed_factor",
                   "sandbox.engine.tiers.flex.spurious_throttle_rate", "reservations[0].input_tpm",
                   "reservations[0].output_tpm", "reservations[0].term_months",
                   "reservations[0].price_per_1k_tpm_month", "sandbox.s3.max_buckets", "sandbox.s3.max_object_bytes",
                   "sandbox.s3.max_total_bytes", "sandbox.s3.max_objects", "sandbox.s3.max_multipart_uploads",
                   "sandbox.s3.max_parts_per_upload", "sandbox.access_log_max_bytes", "sandbox.access_log_backups"]


def _profile(text: str):
    return parse_sandbox_config(load_yaml("p.yaml", text), "p.yaml")


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("path", PROFILE_NUMBERS)
def test_profile_numbers_that_overflow_are_refused_naming_file_line_and_field(path, value):
    with pytest.raises(ConfigError) as err:
        _profile(_set(PROFILE, path, value))
    _bad(err.value, "p.yaml", path)


def test_the_profile_fixture_itself_is_valid():
    assert _profile(PROFILE).catalog.models[0].output_tps == 100
    assert _profile(PROFILE).s3.max_parts_per_upload == 50


@pytest.mark.parametrize("key, value, needle", [
    ("max_buckets", "0", "at least 1"), ("max_object_bytes", str(10**12), "at most"), ("max_objects", "ten", "int"),
    ("bogus", "1", "unknown key")])
def test_bad_s3_limits_are_refused_naming_the_setting(key, value, needle):
    with pytest.raises(ConfigError) as err:
        _profile(PROFILE.replace("max_buckets: 10,", f"max_buckets: 10, {key}: {value},") if key == "bogus"
                 else _set(PROFILE, f"sandbox.s3.{key}", value))
    _bad(err.value, "p.yaml", f"sandbox.s3.{key}")
    assert needle in str(err.value)


@pytest.mark.parametrize("name", ["Tier_Console", "ab", "bad..name", "xn--bucket", "10.0.0.1", "ends-"])
def test_a_default_bucket_s3_would_refuse_is_a_config_error_naming_it(name):
    with pytest.raises(ConfigError) as err:
        _profile(PROFILE.replace("  engine:", f"  bucket: {name!r}\n  engine:", 1))
    _bad(err.value, "p.yaml", "sandbox.bucket")


def test_a_minimum_above_its_maximum_is_refused():
    with pytest.raises(ConfigError) as err:
        _profile(_set(PROFILE, "sandbox.models[0].batch_min_records", "5000"))
    _bad(err.value, "p.yaml", "sandbox.models[0].batch_min_records")
    assert "batch_max_records" in str(err.value)


@pytest.mark.parametrize("spec, needle", [
    ("slow=" + "9" * 400 + "s", "slow"), ("slow=99999999s", "slow"), ("slow=1e308s", "slow"),
    ("down=10s/" + "9" * 400 + "s", "down"), ("down=" + "9" * 400 + "/60s", "down"),
    ("503@1.2.3", "503@1.2.3"), ("503@" + "0" * 400 + "1", "503@"), ("503#" + "9" * 400, "503#"),
    ("slow=.s", "slow"),
])
def test_fault_numbers_that_overflow_or_never_end_are_refused_naming_the_rule(spec, needle):
    with pytest.raises(FaultSpecError) as err:
        parse_faults(spec)
    assert str(err.value).startswith("fault ") and needle in str(err.value)


def test_a_bad_fault_probability_is_a_usage_error_naming_the_rule(tmp_path):
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", "--faults", "503@1.2.3"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 2 and "503@1.2.3" in out.stderr and "Traceback" not in out.stderr, out.stderr


# ---------------------------------------------------------------------- properties

numbers = st.one_of(st.floats(), st.integers(), st.integers(10**15, 10**500), st.sampled_from(HOSTILE).map(yaml.safe_load))


def _literal(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def _finite_and_bounded(value) -> None:
    for name, v in vars(value).items() if hasattr(value, "__dict__") else ():
        if isinstance(v, float):
            assert math.isfinite(v), name
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert abs(v) <= 1e15, (name, v)


@given(path=st.sampled_from(SCENARIO_NUMBERS), value=numbers)
@settings(max_examples=400, deadline=None)
def test_any_scenario_number_is_taken_finite_and_bounded_or_named(path, value):
    try:
        sc = parse_scenario(load_yaml("s.yaml", _set(SCENARIO, path, _literal(value))), "s.yaml")
    except ConfigError as err:
        _bad(err, "s.yaml", path, exact=False)
        return
    for t in sc.tenants:
        _finite_and_bounded(t)
        assert t.start <= MAX_SECONDS and t.backoff <= MAX_SECONDS
    for p in sc.phases:
        _finite_and_bounded(p)
        assert p.start + p.duration <= 2 * MAX_SECONDS
    assert sc.repeat is None or sc.repeat <= MAX_SECONDS


@given(path=st.sampled_from(PROFILE_NUMBERS), value=numbers)
@settings(max_examples=400, deadline=None)
def test_any_profile_number_is_taken_finite_and_bounded_or_named(path, value):
    try:
        cfg = _profile(_set(PROFILE, path, _literal(value)))
    except ConfigError as err:
        _bad(err, "p.yaml", path, exact=False)
        return
    for m in cfg.catalog.models:
        _finite_and_bounded(m)
        assert m.batch_min_records <= m.batch_max_records
    for r in cfg.catalog.reservations:
        _finite_and_bounded(r)
    for policy in cfg.catalog.settings.policies.values():
        _finite_and_bounded(policy)
    _finite_and_bounded(cfg.s3)
    assert all(1 <= v <= S3_LIMIT_CEILINGS[k] for k, v in vars(cfg.s3).items())


fault_text = st.one_of(
    st.text(max_size=30),
    st.builds(lambda k, a, p, n: k + a + p + n,
              st.sampled_from(["503", "500", "throttle", "slow", "reset", "lost", "down", "cut"]),
              st.one_of(st.just(""), st.builds(lambda x, u: f"={x}{u}", st.one_of(
                  st.integers(0, 10**500).map(str), st.floats().map(repr), st.text("0123456789.e", max_size=8)),
                  st.sampled_from(["", "s", "ms", "m", "/60s", "s/" + "9" * 50]))),
              st.one_of(st.just(""), st.text("0123456789.", max_size=12).map(lambda p: "@" + p)),
              st.one_of(st.just(""), st.integers(0, 10**400).map(lambda n: f"#{n}"))))


@given(spec=fault_text)
@settings(max_examples=400, deadline=None)
def test_any_fault_spec_is_rules_with_sane_numbers_or_an_error_naming_the_rule(spec):
    try:
        rules = parse_faults(spec)
    except FaultSpecError as err:
        assert str(err).startswith("fault "), err
        return
    for r in rules:
        for v in (r.probability, r.delay_s, r.down_s, r.period_s):
            assert math.isfinite(v) and 0 <= v <= MAX_DELAY_S
        assert r.remaining is None or 0 <= r.remaining <= MAX_COUNT


def test_a_number_too_long_for_python_is_a_config_error_naming_the_file(tmp_path):
    f = tmp_path / "huge.yaml"
    f.write_text(SCENARIO.replace("rate: 0.5", "rate: " + "9" * 5000))
    with pytest.raises(ConfigError) as err:
        load_scenario(str(f))
    assert str(err.value).startswith(f"{f}:") and "digits" in str(err.value)
