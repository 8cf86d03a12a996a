"""The shared options mean the same wherever they are typed: before the command, between a command and
its action, or after it. The property tests walk the real parser from ``build_parser()``; the end-to-end
tests run the real command against a sandbox on loopback."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import NOVA
from tests.e2e.test_headless import batch_file, cli_for

from tierconsole.cli import options
from tierconsole.cli.main import build_parser

CLI = [sys.executable, "-m", "tierconsole.cli"]
PARSER = build_parser()


def _leaf_args(parser: argparse.ArgumentParser) -> list[str]:
    """The fewest arguments the leaf ``parser`` accepts: its required positionals and options."""
    out: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.dest.startswith(options._MARK):
            continue
        value = str(action.choices[0]) if action.choices else "x"
        if not action.option_strings:
            out.append(value)
        elif action.required:
            out += [action.option_strings[0], value]
    return out


def _commands() -> list[tuple[tuple[str, ...], list[str]]]:
    """Every runnable command path of the real parser (the console itself is ``()``) and its leaf arguments."""
    out = []
    for path, parser in options.walk(PARSER):
        subs = options.subparsers_of(parser)
        required = any(isinstance(a, argparse._SubParsersAction) and a.required for a in parser._actions)
        if not (subs and required):
            out.append((path, _leaf_args(parser)))
    return out


COMMANDS = _commands()
COMMAND_PATHS = [p for p, _ in COMMANDS]
VALUES = {
    "profile": st.sampled_from(["prod", "sandbox", "team-a", "drill.2"]),
    "endpoint_url": st.sampled_from(["http://127.0.0.1:4599", "https://bedrock.example.test", "http://[::1]:9"]),
    "region": st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"]),
    "read_only": st.just(True),
    "theme": st.sampled_from(options.theme_names()),
}
FLAGS = {opt.name: opt.flag for opt in options.SHARED.options}


def _argv(path, leaf, placed) -> list[str]:
    """``tierconsole [opts@0] cmd [opts@1] action [opts@2] leaf-args``: each option at its position.
    ``placed``: {name: (position, value)} or a list of (name, position, value)."""
    slots: list[list[str]] = [[] for _ in range(len(path) + 1)]
    items = [(n, p, v) for n, (p, v) in placed.items()] if isinstance(placed, dict) else placed
    for name, pos, value in items:
        slots[pos] += [FLAGS[name]] if value is True else [FLAGS[name], str(value)]
    argv = list(slots[0])
    for i, word in enumerate(path):
        argv += [word, *slots[i + 1]]
    return argv + leaf


def parse(argv) -> argparse.Namespace:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return PARSER.parse_args(argv)
        except SystemExit as e:
            raise AssertionError(f"{argv}: exit {e.code}: {err.getvalue()}") from None


def usage_error(argv) -> str:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
        PARSER.parse_args(argv)
    assert e.value.code == 2, argv
    return err.getvalue()


def test_the_walk_finds_every_command():
    """The property tests below see every command, nested ones included (and a new one automatically)."""
    assert {(), ("prompt",), ("batch", "submit"), ("batch", "list"), ("batch", "show"), ("batch", "cancel"),
            ("status",), ("incident", "export"), ("plan",), ("record",), ("replay",), ("profiles",),
            ("sandbox",), ("watch",), ("fleet",)} <= set(COMMAND_PATHS)


def _applies(path, name) -> bool:
    command = path[0] if path else None
    if command in ("profiles", "replay"):
        return name in ("read_only", "theme")
    if command == "sandbox":
        return name not in ("endpoint_url", "region") and (len(path) == 1 or path[1] == "start"
                                                          or name in ("read_only", "theme"))
    return True


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_every_shared_option_means_the_same_in_every_position(data):
    """For every command and any set of shared options, each typed at any level, the parse is the same as
    with all of them at the end, and each option holds the value typed (never the sub-parser's default)."""
    path, leaf = data.draw(st.sampled_from(COMMANDS), label="command")
    names = data.draw(st.lists(st.sampled_from([n for n in FLAGS if _applies(path, n)]), unique=True, min_size=1),
                      label="options")
    placed = {n: (data.draw(st.integers(0, len(path)), label=f"{n} position"), data.draw(VALUES[n], label=n))
              for n in names}
    got = parse(_argv(path, leaf, placed))
    at_end = parse(_argv(path, leaf, {n: (len(path), v) for n, (_, v) in placed.items()}))
    assert vars(got) == vars(at_end)
    for name, (_, value) in placed.items():
        assert getattr(got, name) == value, (name, path)
    for name in set(FLAGS) - set(names):  # what was not typed is the default, whatever the level
        assert getattr(got, name) == (False if name == "read_only" else None)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_one_option_twice_with_different_values_is_a_usage_error_naming_both(data):
    path, leaf = data.draw(st.sampled_from([c for c in COMMANDS if c[0]]), label="command")
    name = data.draw(st.sampled_from([n for n in FLAGS if n != "read_only" and _applies(path, n)]), label="option")
    a, b = data.draw(st.lists(VALUES[name], min_size=2, max_size=2, unique=True), label="values")
    first, second = data.draw(st.lists(st.integers(0, len(path)), min_size=2, max_size=2, unique=True),
                              label="positions")
    message = usage_error(_argv(path, leaf, [(name, first, a), (name, second, b)]))
    assert f"{FLAGS[name]} given twice with different values" in message
    assert repr(a) in message and repr(b) in message
    # The same value twice is not a conflict.
    assert getattr(parse(_argv(path, leaf, [(name, first, a), (name, second, a)])), name) == a


@pytest.mark.parametrize("path, leaf, name", [(p, leaf, n) for p, leaf in COMMANDS for n in sorted(FLAGS)
                                               if not _applies(p, n)])
def test_an_option_a_command_cannot_honour_is_refused_in_every_position(path, leaf, name):
    value = True if name == "read_only" else {"profile": "prod", "endpoint_url": "http://127.0.0.1:1",
                                               "region": "us-west-2", "theme": "light"}[name]
    for pos in range(len(path) + 1):
        message = usage_error(_argv(path, leaf, {name: (pos, value)}))
        assert f"{FLAGS[name]} does not apply to `tierconsole {' '.join(path)}`" in message


FLEET_VIEW = {"--group": st.sampled_from(["none", "account", "region", "model"]),
              "--filter": st.sampled_from(["payments", "!dev eu-west", "us-east-1"])}


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fleet_options_mean_the_same_on_fleet_and_status_fleet_in_any_order(data):
    """`status --fleet` is `fleet` judged for cron: --json, and the shared options anywhere, parse the same on
    both; --fleet and --fail-over in any order on status; the view options in any order on fleet."""
    view = data.draw(st.lists(st.sampled_from(sorted(FLEET_VIEW)), unique=True), label="view options")
    words = [w for flag in view for w in (flag, data.draw(FLEET_VIEW[flag], label=flag))]
    shared = data.draw(st.sampled_from([[], ["--read-only"], ["--region", "eu-west-1"], ["--profile", "prod"]]))
    json_flag = data.draw(st.sampled_from([[], ["--json"]]), label="json")
    fleet = parse(shared + ["fleet"] + json_flag + words)
    assert fleet.command == "fleet" and fleet.json == bool(json_flag)
    for flag in view:
        assert getattr(fleet, flag[2:]) == words[words.index(flag) + 1]
    fail = data.draw(st.sampled_from([[], ["--fail-over"], ["--fail-over", "0.5"]]), label="fail-over")
    tail = data.draw(st.permutations([["--fleet"], fail, json_flag]), label="order")
    status = parse(["status"] + [w for part in tail for w in part] + shared)
    assert status.fleet is True and status.json == fleet.json
    for name in ("profile", "region", "read_only", "endpoint_url"):
        assert getattr(status, name) == getattr(fleet, name)
    if fail[1:]:
        assert status.fail_over == 0.5


@pytest.mark.parametrize("argv, needle", [
    (["status", "--fleet", "--fail-over", "1.5"], "must be a fraction above 0 and at most 1"),
    (["fleet", "--group", "tier"], "invalid choice: 'tier'"),
    (["fleet", "--fail-over", "0.5"], "unrecognized arguments: --fail-over"),
    (["--theme", "solarized", "status"], "unknown theme 'solarized'; choose from dark, high-contrast, light"),
    (["status", "--theme", "solarized"], "unknown theme 'solarized'; choose from dark, high-contrast, light"),
    (["batch", "--theme", "solarized", "list"], "unknown theme 'solarized'"),
    (["--endpoint-url", "localhost:4599", "status"], "must be an http:// or https:// URL, got 'localhost:4599'"),
    (["status", "--endpoint-url", "localhost:4599"], "must be an http:// or https:// URL, got 'localhost:4599'"),
    (["--region", "US East", "batch", "list"], "not a region name (e.g. us-east-1): 'US East'"),
    (["--record", "x.rec", "status"], "--record does not apply to `tierconsole status`"),
    (["--profile", "a", "sandbox", "--config", "f.yaml"], "either --profile NAME or --config FILE"),
])
def test_bad_shared_options_are_the_same_usage_error_everywhere(argv, needle):
    assert needle in usage_error(argv)


def test_theme_names_are_the_themes_textual_loads():
    from tierconsole.tui.theming import builtin_themes

    assert options.theme_names() == sorted(builtin_themes())


@settings(max_examples=80, deadline=None)
@given(command=st.sampled_from([("batch", "submit"), ("batch", "cancel"), ("prompt",)]), data=st.data())
def test_read_only_in_any_position_refuses_every_mutating_action_in_the_core(command, data):
    """--read-only before, between or after, through the same source and guard the commands use. A test
    prompt is refused too (it spends the shared production quota) unless the profile allows it."""
    from tierconsole.core.ops.guard import ReadOnlyError
    from tierconsole.core.session import OperatorSession
    from tierconsole.core.source import LiveSource

    leaf = dict(COMMANDS)[command]
    pos = data.draw(st.integers(0, len(command)), label="position")
    args = parse(_argv(command, leaf, {"read_only": (pos, True)}))
    with tempfile.TemporaryDirectory() as state, pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", state)
        env.delenv("TIERCONSOLE_PROFILE", raising=False)
        guard = OperatorSession(LiveSource.from_args(args)).guard
        with pytest.raises(ReadOnlyError):
            if command == ("prompt",):
                guard.require_prompt()
            else:
                guard.require_mutation(f"batch-{command[1]}", "JOB")
        audit = open(os.path.join(state, "tierconsole", "audit.jsonl")).read()
    assert '"outcome": "refused: read-only"' in audit


# ------------------------------------------------------------------ end to end: real processes, real sandbox

@pytest.fixture
def env(xdg_env):
    return xdg_env


def tc(env, cwd, *args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=90, env=env, cwd=cwd)


def test_read_only_before_the_command_refuses_the_cancel_and_audits_it(make_sandbox, env, tmp_path):
    sandbox = make_sandbox(speed=2.0)  # the job is still running when the cancel comes
    submitted = cli_for(sandbox, env, tmp_path)("batch", "submit", str(batch_file(tmp_path / "in.jsonl", n=150)),
                                                "--model", NOVA, "--name", "keep-me", "--json")
    assert submitted.returncode == 0, submitted.stderr
    arn = json.loads(submitted.stdout)["jobArn"]
    for argv in (["--read-only", "batch", "cancel", arn, "--yes", "--endpoint-url", sandbox.endpoint],
                 ["batch", "--read-only", "cancel", arn, "--yes", "--endpoint-url", sandbox.endpoint],
                 ["--read-only", "--endpoint-url", sandbox.endpoint, "batch", "cancel", arn, "--yes"]):
        out = tc(env, tmp_path, *argv)
        assert out.returncode == 1, (argv, out.stdout, out.stderr)
        # the cause typed, never the profile blamed for it (newcomer-3 F-m)
        assert "batch-cancel refused: --read-only was given" in out.stderr, out.stderr
        assert "profile 'sandbox'" not in out.stderr, out.stderr
    shown = json.loads(tc(env, tmp_path, "--endpoint-url", sandbox.endpoint, "batch", "show", arn, "--json").stdout)
    assert shown["status"] not in ("Stopping", "Stopped")
    audit = [json.loads(line) for line in (tmp_path / "state" / "tierconsole" / "audit.jsonl").read_text().splitlines()]
    refusals = [a for a in audit if a["action"] == "batch-cancel"]
    assert len(refusals) == 3 and all(a["outcome"] == "refused: read-only" and a["target"] == arn for a in refusals)


def test_profile_and_endpoint_before_the_command_are_the_ones_used(make_sandbox, env, tmp_path):
    """``--profile NAME status`` and ``--endpoint-url URL batch list`` before the command: that profile, that
    endpoint (before the fix: the default profile on a fresh embedded sandbox, with an empty job list)."""
    sandbox = make_sandbox(speed=2.0)
    profiles = tmp_path / "cfg" / "tierconsole" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "ops.yaml").write_text(f"name: ops\nendpoint_url: {sandbox.endpoint}\nregion: us-east-1\n"
                                       "read_only: true\n")
    submitted = tc(env, tmp_path, "--endpoint-url", sandbox.endpoint, "batch", "submit",
                   str(batch_file(tmp_path / "in.jsonl", n=110)), "--model", NOVA, "--name", "seen", "--json")
    assert submitted.returncode == 0, submitted.stderr
    listed = tc(env, tmp_path, "--endpoint-url", sandbox.endpoint, "batch", "list", "--json")
    assert [j["jobName"] for j in json.loads(listed.stdout)] == ["seen"]
    status = tc(env, tmp_path, "--profile", "ops", "status", "--json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["profile"] == "ops" and doc["endpoint"] == sandbox.endpoint
    assert [j["job_name"] for j in doc["batch_jobs"]] == ["seen"]
    # The read-only profile chosen before the command refuses a cancel.
    out = tc(env, tmp_path, "--profile", "ops", "batch", "cancel", "seen", "--yes")
    assert out.returncode == 1, out.stderr
    assert f"profile 'ops' sets read_only: true ({profiles / 'ops.yaml'}:4)" in out.stderr, out.stderr


def test_conflicting_targets_are_refused_before_anything_runs(make_sandbox, env, tmp_path):
    sandbox = make_sandbox(speed=2.0)
    out = tc(env, tmp_path, "--endpoint-url", sandbox.endpoint, "batch", "submit",
             str(batch_file(tmp_path / "in.jsonl", n=110)), "--model", NOVA, "--endpoint-url", "http://127.0.0.1:9")
    assert out.returncode == 2 and out.stdout == ""
    assert (f"--endpoint-url given twice with different values: '{sandbox.endpoint}' (before the command) and "
            "'http://127.0.0.1:9' (after `batch submit`)") in out.stderr
    assert json.loads(tc(env, tmp_path, "--endpoint-url", sandbox.endpoint, "batch", "list", "--json").stdout) == []
    assert not (tmp_path / "state" / "tierconsole" / "audit.jsonl").exists()


@pytest.mark.parametrize("flag, value, attr, expected", [
    ("--port", "0", "port", 0), ("--scenario", "none", "scenario", "none"), ("--speed", "5", "speed", 5.0),
    ("--config", "x.yaml", "config", "x.yaml"), ("--auth", "k.yaml", "auth", "k.yaml"),
    ("--host", "::1", "host", "::1"), ("--faults", "503@0.1", "faults", "503@0.1"),
])
def test_the_sandbox_options_mean_the_same_before_and_after_start(flag, value, attr, expected):
    """``sandbox --port 0 start`` is ``sandbox start --port 0`` (the same sub-parser trap as the shared options)."""
    before, after = parse(["sandbox", flag, value, "start"]), parse(["sandbox", "start", flag, value])
    assert vars(before) == vars(after) and getattr(before, attr) == expected
    assert getattr(parse(["sandbox", "start"]), attr) != expected  # the default differs: the value was kept
    message = usage_error(["sandbox", flag, value, "start", flag, value + "1"])
    assert f"{flag} given twice with different values" in message
    assert f"{flag} does not apply to `tierconsole sandbox stop`" in usage_error(["sandbox", flag, value, "stop"])


_WATCH_SHARED = {"--interval": st.sampled_from(["0.5", "1", "30"]), "--duration": st.sampled_from(["30s", "2h", "90"]),
                 "--speed": st.sampled_from(["1", "60", "2.5"]), "--scenario": st.sampled_from(["spike", "outage"])}


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_watch_options_mean_what_they_mean_for_record_and_the_console(data):
    """`watch` takes `record`'s --interval, --duration, --speed and --scenario with the same meaning, and the
    console's --record FILE and --record-max-size before or after the command (twice, differently: refused)."""
    flags = data.draw(st.lists(st.sampled_from(sorted(_WATCH_SHARED)), unique=True, min_size=1), label="flags")
    typed = [x for f in flags for x in (f, data.draw(_WATCH_SHARED[f], label=f))]
    watch, record = parse(["watch", *typed]), parse(["record", "f.rec", *typed])
    for flag in flags:
        name = flag[2:].replace("-", "_")
        assert getattr(watch, name) == getattr(record, name), flag
    size = data.draw(st.sampled_from(["1M", "64M", "2G"]), label="size")
    before = parse(["--record", "x.rec", "--record-max-size", size, "watch"])
    after = parse(["watch", "--record", "x.rec", "--record-max-size", size])
    console = parse(["--record", "x.rec", "--record-max-size", size])
    assert before.record == after.record == console.record == "x.rec"
    assert before.record_max_size == after.record_max_size == console.record_max_size
    assert "--record given twice with different values" in usage_error(["--record", "a.rec", "watch", "--record",
                                                                         "b.rec"])
