"""Hostile configuration: alias bombs, values YAML cannot construct, unbounded values in messages,
and things in a profiles folder that are not files. Never a traceback, never out of memory, never
a hang: a ConfigError naming file and line, or a skipped file with a warning."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierconsole.core.config.loader import MAX_ALIAS_NODES, load_yaml
from tierconsole.core.domain.catalog import ConfigError, show
from tierconsole.core.domain.profile import parse_profile
from tierconsole.core.config.profiles import _load, discover, load_profile
from tierconsole.sandbox.config import parse_sandbox_config
from tierconsole.sandbox.scenarios.spec import parse_scenario

MESSAGE_LIMIT = 600  # no error message, whatever the input, is longer than this


def bomb(width: int = 9, depth: int = 9, at: str = "models") -> str:
    """A "billion laughs" profile: ``width ** depth`` strings from a few hundred bytes."""
    lines = ["description: lol", "sandbox:", "  a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, depth):
        lines.append(f"  a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    lines.append(f"{at}: *a{depth - 1}")
    return "\n".join(lines) + "\n"


def _limited_memory() -> None:  # a subprocess that would run out of memory fails, instead of the machine
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def tierconsole(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tierconsole.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, preexec_fn=_limited_memory)


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    folder = tmp_path / "config" / "tierconsole" / "profiles"
    folder.mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("TIERCONSOLE_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return folder


# --- alias bombs --------------------------------------------------------------------------------
def test_a_700_byte_alias_bomb_is_refused_with_file_and_line(xdg):
    path = xdg / "lol.yaml"
    path.write_text(bomb())
    assert path.stat().st_size < 700
    with pytest.raises(ConfigError) as info:
        load_profile("lol")
    message = str(info.value)
    assert message.startswith(f"{path}:") and "aliases" in message and len(message) < MESSAGE_LIMIT
    assert info.value.line is not None and 3 <= info.value.line <= 12


def test_an_alias_bomb_does_not_take_down_other_commands(xdg):
    (xdg / "lol.yaml").write_text(bomb())
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg.parent.parent)}
    out = tierconsole("profiles", env=env)
    assert "Traceback" not in out.stderr and "MemoryError" not in out.stderr
    assert out.returncode == 1
    line = next(x for x in out.stdout.splitlines() if x.startswith("lol"))
    assert "ERROR:" in line and "aliases" in line and len(line) < MESSAGE_LIMIT + 200
    # the profile in use is another one: the bomb is only listed, never expanded
    assert load_profile("sandbox").name == "sandbox"


@pytest.mark.parametrize("where", ["models", "regions", "prices", "reservations", "name", "sandbox_models"])
def test_an_alias_bomb_anywhere_in_any_yaml_is_refused(where):
    text = bomb(at=where) if where != "sandbox_models" else bomb(at="x").replace("x: *a8\n", "  models: *a8\n")
    with pytest.raises(ConfigError, match="aliases"):
        parse_profile(load_yaml("p.yaml", text), default_name="p")
    with pytest.raises(ConfigError, match="aliases"):
        parse_sandbox_config(load_yaml("s.yaml", text), "s.yaml")


def test_a_self_referring_alias_is_refused():
    with pytest.raises(ConfigError, match=r"p\.yaml:2: .*refers to a value that contains it"):
        load_yaml("p.yaml", "sandbox: &s\n  x: [*s]\n")


def test_sharing_a_block_of_settings_a_few_times_is_fine():
    text = textwrap.dedent("""\
        defaults: &d {tpm: 100000, rpm: 100, max_output_tokens: 4096, output_tps: 80, ttft_ms: 250}
        models:
          - {id: a.one-v1:0, tpm: 1, rpm: 1, max_output_tokens: 1}
          - *d
          - *d
        shared: [*d, *d, *d, *d, *d, *d, *d, *d]
        """)
    doc = load_yaml("ok.yaml", text)
    assert doc["shared"][7]["tpm"] == 100_000 and doc["models"][2]["rpm"] == 100


@given(st.integers(1, 12), st.integers(1, 9))
@settings(max_examples=80, deadline=None)
def test_alias_expansion_is_allowed_exactly_up_to_the_limit(width, depth):
    """The class, not the example: any nesting of aliases loads when what it adds is within the limit,
    and is refused (quickly, with the line) beyond it."""
    text = bomb(width, depth, at="x")
    # what the aliases add: level k (k >= 1) is ``width`` copies of level k - 1, and x is one more of the last
    sizes = [1 + width]  # a0: the sequence and its strings
    for _ in range(1, depth):
        sizes.append(1 + width * sizes[-1])
    added = sum(sizes[1:]) - (depth - 1) + sizes[-1]
    try:
        doc = load_yaml("b.yaml", text)
    except ConfigError as e:
        assert added > MAX_ALIAS_NODES, (width, depth, added)
        assert "aliases" in str(e) and e.line is not None and len(str(e)) < MESSAGE_LIMIT
    else:
        assert added <= MAX_ALIAS_NODES, (width, depth, added)
        assert doc["x"] is doc["sandbox"][f"a{depth - 1}"]


# --- values YAML cannot construct, and values that must not be shown in full ---------------------
@pytest.mark.parametrize("text, where, message", [
    ("refresh_seconds: " + "1" * 5000 + "\n", ":1:", "too many digits"),
    ("description: 2001-13-45\n", ":1:", "month must be in 1..12"),
    ("refresh_seconds: .nan\n", ":1:", "refresh_seconds: must be a finite number"),
    ("refresh_seconds: .inf\n", ":1:", "refresh_seconds: is out of range: inf"),
    ("alert_threshold: -.inf\n", ":1:", "alert_threshold: is out of range: -inf"),
    ("1: x\nfoo: y\n", ":2:", "foo: unknown key"),  # keys of mixed kinds (sorting them raised TypeError)
    ("7: x\n", ":1:", "7: unknown key"),
    ("description: !!binary aGVsbG8=\n", ":1:", "description: must be str, got <5 bytes of binary data>"),
    ("? [a, b]\n: 1\n", ":1:", "a key cannot be ['a', 'b']"),
], ids=["digits", "date", "nan", "inf", "-inf", "mixed-keys", "int-key", "binary", "list-key"])
def test_values_yaml_cannot_construct_or_the_profile_cannot_use_name_the_line(xdg, text, where, message):
    path = xdg / "odd.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_profile("odd")
    assert str(info.value).startswith(f"{path}{where}") and message in str(info.value), str(info.value)
    assert "Traceback" not in str(info.value) and len(str(info.value)) < MESSAGE_LIMIT


@pytest.mark.parametrize("text", [
    "models: [" + ", ".join(["[1]"] * 3000) + "]\n",
    "endpoint_url: " + "x" * 100_000 + "\n",
    "regions: [" + ", ".join(["1"] * 50_000) + "]\n",
    "description: [" + "x" * 100_000 + "]\n",
    "prices:\n  ? " + "m" * 100_000 + "\n  : {input: 1}\n",
    "? " + "x" * 100_000 + "\n: 1\n",
    "sandbox: {models: [{id: a.b-v1:0, tpm: 1, rpm: 1, max_output_tokens: 1}], account_id: ["
    + "1, " * 50_000 + "1]}\n",
], ids=["models", "endpoint", "regions", "description", "prices-key", "top-key", "account"])
def test_messages_show_a_bounded_rendering_of_the_value(text):
    doc = load_yaml("big.yaml", text)
    errors = []
    for parse in (lambda: parse_profile(doc, default_name="p", source="big.yaml"),
                  lambda: parse_sandbox_config(doc, "big.yaml")):
        try:
            parse()
        except ConfigError as e:
            errors.append(str(e))
    assert errors and all(len(e) < MESSAGE_LIMIT for e in errors), [len(e) for e in errors]


def test_show_is_bounded_for_anything():
    nested: list = []
    for _ in range(50):
        nested = [nested] * 10  # 10^50 leaves if expanded
    for value in (nested, "a" * 10**6, 10**5000, b"\x00" * 10**6, {str(i): i for i in range(10**5)}, 1.5, None, True):
        assert len(show(value)) < 200


scalars = st.one_of(
    st.sampled_from(["1" * 4400, "2001-13-45", "2001-02-03", "!!binary aGVsbG8=", ".nan", "-.inf", "0x1F", "0o17",
                     "1_000", "~", "null", "yes", "no", "on", "'quoted'", '"\\ud800"', "!!str 1", "!!float x",
                     "!!int 1.5", "!!timestamp x", "!!bool maybe", "!!null x", "[]", "{}", "&a 1", "*a", "!!set {a}",
                     "!!omap [a: 1]", "!!pairs [a: 1]", "!!python/object:os.system x", "!!merge x"]),
    st.integers(-10**20, 10**20).map(str),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).map(lambda s: '"' + s.replace("\\", "\\\\")
                                                                           .replace('"', '\\"') + '"'),
)
KEYS = ["name", "region", "regions", "models", "reservations", "sandbox", "prices", "refresh_seconds", "read_only",
        "alert_threshold", "endpoint_url", "tier_price_multipliers", "default", "bogus", "1", "~", "[a]", "? x"]


@given(st.lists(st.tuples(st.sampled_from(KEYS), scalars), min_size=1, max_size=6))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_profile_of_odd_scalars_is_a_profile_or_a_config_error_with_file(pairs):
    text = "".join(f"{k}: {v}\n" for k, v in pairs)
    for parse in (lambda: _load("p", "p.yaml", "user", text),
                  lambda: parse_sandbox_config(load_yaml("p.yaml", text), "p.yaml")):
        try:
            parse()
        except ConfigError as e:
            assert str(e).startswith("p.yaml") and len(str(e)) < MESSAGE_LIMIT


def test_scenarios_share_the_safe_loader():
    from tierconsole.sandbox.config import load_sandbox_config

    text = bomb(at="tenants").replace("description: lol\n", "name: lol\n")
    with pytest.raises(ConfigError, match="aliases"):
        parse_scenario(load_yaml("s.yaml", text), "s.yaml", load_sandbox_config().catalog)


# --- a profiles folder holding things that are not files -----------------------------------------
def _odd_entries(folder: Path) -> dict[str, str]:
    """Every kind of non-file a profiles folder can hold, by profile name, with how it is described."""
    os.mkfifo(folder / "pipe.yaml")
    (folder / "loop.yaml").symlink_to("loop.yaml")
    (folder / "dangling.yaml").symlink_to(folder / "missing.yaml")
    (folder / "device.yaml").symlink_to("/dev/zero")
    (folder / "folder.yaml").mkdir()
    return {"pipe": "a FIFO", "loop": "symbolic link", "dangling": "missing", "device": "device",
            "folder": "directory"}


def test_the_profiles_command_lists_non_files_as_skipped_and_never_reads_them(xdg):
    kinds = _odd_entries(xdg)
    (xdg / "mine.yaml").write_text("region: eu-west-1\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg.parent.parent)}
    out = tierconsole("profiles", env=env, timeout=60)  # reading the FIFO or /dev/zero would never end
    assert "Traceback" not in out.stderr
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    for name, kind in kinds.items():
        line = next(x for x in lines if x.startswith(name + " "))
        assert "skipped" in line and kind in line, line
    assert any(x.startswith("mine ") and "ERROR" not in x for x in lines)


def test_other_commands_warn_once_on_stderr_and_go_on(xdg, capsys):
    kinds = _odd_entries(xdg)
    (xdg / "mine.yaml").write_text("region: eu-west-1\n")
    assert load_profile("mine").region == "eu-west-1"
    err = capsys.readouterr().err.splitlines()
    for name in kinds:
        assert sum(f"{name}.yaml" in line and "skipped" in line for line in err) == 1, err
    assert all(line.startswith("tierconsole: warning: ") for line in err)
    load_profile("mine")
    assert capsys.readouterr().err == ""  # once per file and process


def test_a_non_file_never_hides_the_profile_of_the_same_name(xdg):
    os.mkfifo(xdg / "sandbox.yaml")
    assert load_profile().name == "sandbox" and load_profile().origin == "built-in"
    entries = discover()
    assert entries["sandbox"].error is None
    assert any(e.skipped and e.source == str(xdg / "sandbox.yaml") for e in entries.values())


def test_an_oversized_profile_is_refused_not_read_whole(xdg):
    path = xdg / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: 64 MiB of zeros, no disk used
    with pytest.raises(ConfigError, match=f"^{path}: .*larger than"):
        load_profile("huge")
