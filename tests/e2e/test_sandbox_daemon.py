"""The background sandbox (``tierconsole sandbox start|stop|status``) and the commands that attach to it,
run as a user runs them: real processes, each test with its own XDG directories, and every sandbox a
test starts is stopped at its end."""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time

import pytest

from tests.conftest import NOVA, boto3_client
from tests.e2e.test_headless import batch_file

CLI = [sys.executable, "-m", "tierconsole.cli"]
NOTE = "throwaway in-process sandbox"


@pytest.fixture
def env(xdg_env):
    return xdg_env


def tc(env, cwd, *args, timeout=90):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


def state_file(tmp_path):
    return tmp_path / "run" / "tierconsole" / "sandbox.json"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_start_submit_list_show_stop_across_processes(env, tmp_path):
    out = tc(env, tmp_path, "sandbox", "start", "--port", "0", "--scenario", "none", "--speed", "2")
    assert out.returncode == 0, out.stderr
    state = json.loads(state_file(tmp_path).read_text())
    endpoint, pid = state["endpoint"], state["pid"]
    assert f"sandbox started at {endpoint} (pid {pid})" in out.stdout and f"export AWS_ENDPOINT_URL={endpoint}" in out.stdout
    assert stat.S_IMODE(os.stat(state_file(tmp_path)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state_file(tmp_path).parent).st_mode) == 0o700
    assert alive(pid)

    # A second start starts nothing and says where the running one is.
    again = tc(env, tmp_path, "sandbox", "start")
    assert again.returncode == 0 and f"already running at {endpoint} (pid {pid})" in again.stdout
    assert json.loads(state_file(tmp_path).read_text())["pid"] == pid

    # Separate processes on the default (sandbox) profile share it: the job submitted is listed and shown.
    sub = tc(env, tmp_path, "batch", "submit", str(batch_file(tmp_path / "in.jsonl", n=110)), "--model", NOVA,
             "--name", "shared-1", "--json")
    assert sub.returncode == 0, sub.stderr
    assert NOTE not in sub.stderr
    arn = json.loads(sub.stdout)["jobArn"]
    listed = tc(env, tmp_path, "batch", "list", "--json")
    assert [j["jobArn"] for j in json.loads(listed.stdout)] == [arn] and NOTE not in listed.stderr
    shown = tc(env, tmp_path, "batch", "show", arn, "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["jobName"] == "shared-1"
    status = json.loads(tc(env, tmp_path, "status", "--json").stdout)
    assert status["endpoint"] == endpoint and [j["job_name"] for j in status["batch_jobs"]] == ["shared-1"]
    # It is the real endpoint: any AWS client sees the same job there.
    jobs = boto3_client("bedrock", endpoint).list_model_invocation_jobs()["invocationJobSummaries"]
    assert [j["jobArn"] for j in jobs] == [arn]

    st = tc(env, tmp_path, "sandbox", "status", "--json")
    assert st.returncode == 0 and json.loads(st.stdout)["pid"] == pid

    stopped = tc(env, tmp_path, "sandbox", "stop")
    assert stopped.returncode == 0 and f"stopped the sandbox at {endpoint} (pid {pid})" in stopped.stdout
    assert not alive(pid) and not state_file(tmp_path).exists()
    st = tc(env, tmp_path, "sandbox", "status")
    assert st.returncode == 3 and "no background sandbox is running" in st.stdout
    assert "no background sandbox is running" in tc(env, tmp_path, "sandbox", "stop").stdout


def test_without_a_background_sandbox_a_command_says_its_state_is_thrown_away(env, tmp_path):
    out = tc(env, tmp_path, "batch", "list", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == []
    notes = [line for line in out.stderr.splitlines() if NOTE in line]
    assert len(notes) == 1 and "`tierconsole sandbox start`" in notes[0] and "gone when it exits" in notes[0]
    # An explicit endpoint is not a throwaway sandbox: no note.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tc(env, tmp_path, "batch", "list", "--endpoint-url", f"http://127.0.0.1:{port}")
    assert NOTE not in out.stderr


def test_a_stale_state_file_is_cleaned_up(env, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = state_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"pid": dead.pid, "endpoint": "http://127.0.0.1:1", "config": None,
                                "scenario": None, "speed": 1.0, "auth": None, "started": time.time(),
                                "log": "x"}))
    st = tc(env, tmp_path, "sandbox", "status")
    assert st.returncode == 3 and "no background sandbox is running" in st.stdout
    assert not path.exists()
    path.write_text("{torn")  # a half-written or foreign file: also cleaned up, never a traceback
    out = tc(env, tmp_path, "batch", "list")
    assert out.returncode == 0 and NOTE in out.stderr and "Traceback" not in out.stderr
    assert not path.exists()
    # And a start over a stale file starts a new sandbox.
    path.write_text(json.dumps({"pid": dead.pid, "endpoint": "http://127.0.0.1:1", "config": None,
                                "scenario": None, "speed": 1.0, "auth": None, "started": 0, "log": "x"}))
    out = tc(env, tmp_path, "sandbox", "start", "--port", "0", "--scenario", "none")
    assert out.returncode == 0 and "sandbox started at" in out.stdout
    assert json.loads(path.read_text())["pid"] != dead.pid


def test_two_starts_at_once_start_one(env, tmp_path):
    procs = [subprocess.Popen([*CLI, "sandbox", "start", "--port", "0", "--scenario", "none"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    said = sorted(o for o, _ in outs)
    pid = json.loads(state_file(tmp_path).read_text())["pid"]
    assert "already running" in said[0] and f"(pid {pid})" in said[0] and "sandbox started at" in said[1]
    assert background_sandboxes(env) == [pid]


def background_sandboxes(env) -> list[int]:
    """Live sandbox processes started with this test's XDG_RUNTIME_DIR."""
    marker = f"XDG_RUNTIME_DIR={env['XDG_RUNTIME_DIR']}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
            environ = open(f"/proc/{entry}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"sandbox" in cmdline and b"--host" in cmdline and marker in environ and alive(int(entry)):
            found.append(int(entry))
    return found


def test_port_in_use_is_exit_2_with_the_sandbox_own_message_and_no_state(env, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = tc(env, tmp_path, "sandbox", "start", "--port", str(port), "--scenario", "none")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert f"127.0.0.1:{port} is already in use" in out.stderr and "Traceback" not in out.stderr
    assert not state_file(tmp_path).exists()


def test_the_sandbox_profile_uses_the_keys_of_an_auth_sandbox(env, tmp_path):
    keys = tmp_path / "keys.yaml"
    keys.write_text("access_keys:\n  AKIDSANDBOXTEST01: s3cr3t-sandbox-key-01\n")
    out = tc(env, tmp_path, "sandbox", "start", "--port", "0", "--scenario", "none", "--auth", str(keys))
    assert out.returncode == 0, out.stderr
    assert "s3cr3t" not in out.stdout + out.stderr
    endpoint = json.loads(state_file(tmp_path).read_text())["endpoint"]
    import botocore.exceptions

    with pytest.raises(botocore.exceptions.ClientError):  # the dummy keys are refused: auth is on
        boto3_client("sts", endpoint).get_caller_identity()
    for argv in (["status", "--json"], ["--endpoint-url", endpoint, "status", "--json"]):
        st = tc(env, tmp_path, *argv)
        assert st.returncode == 0, st.stderr
        doc = json.loads(st.stdout)
        assert doc["endpoint"] == endpoint and doc["account_id"] == "123456789012" and not doc.get("errors"), doc
        assert "s3cr3t" not in st.stdout + st.stderr
    prompt = tc(env, tmp_path, "prompt", "hi", "--model", NOVA, "--max-tokens", "8", "--json")
    assert prompt.returncode == 0 and json.loads(prompt.stdout)["ok"], prompt.stderr


def test_a_profile_attaches_only_to_the_sandbox_started_from_a_config_saying_the_same(env, tmp_path):
    profiles = tmp_path / "cfg" / "tierconsole" / "profiles"
    profiles.mkdir(parents=True)
    from importlib import resources

    text = resources.files("tierconsole.profiles").joinpath("sandbox.yaml").read_text()
    (profiles / "drill.yaml").write_text(text.replace("name: sandbox", "name: drill")
                                         .replace('account_id: "123456789012"', 'account_id: "210987654321"'))
    out = tc(env, tmp_path, "--profile", "drill", "sandbox", "start", "--port", "0", "--scenario", "none")
    assert out.returncode == 0, out.stderr
    state = json.loads(state_file(tmp_path).read_text())
    assert state["config"] == str((profiles / "drill.yaml").resolve())
    drill = tc(env, tmp_path, "--profile", "drill", "status", "--json")
    assert json.loads(drill.stdout)["endpoint"] == state["endpoint"] and NOTE not in drill.stderr
    builtin = tc(env, tmp_path, "status", "--json")  # the built-in sandbox profile: another file
    assert json.loads(builtin.stdout)["endpoint"] != state["endpoint"]
    assert NOTE in builtin.stderr and "says something else than the sandbox profile's file" in builtin.stderr
    # A copy saying the same as the drill file (another name, another place) shares its sandbox.
    (profiles / "drill2.yaml").write_text((profiles / "drill.yaml").read_text().replace("name: drill", "name: drill2"))
    drill2 = tc(env, tmp_path, "--profile", "drill2", "status", "--json")
    assert json.loads(drill2.stdout)["endpoint"] == state["endpoint"] and NOTE not in drill2.stderr
    bad = tc(env, tmp_path, "--profile", "aws-template", "sandbox", "start")
    assert bad.returncode == 2 and "has no 'sandbox' section" in bad.stderr


def test_the_built_in_fleet_profile_starts_the_fleet_sandbox_and_attaches_to_it(env, tmp_path):
    """A built-in profile other than `sandbox` starts the sandbox from its own file (it once started the
    default one: only the built-in sandbox profile was a sandbox profile)."""
    out = tc(env, tmp_path, "sandbox", "--profile", "fleet", "start", "--port", "0", timeout=120)
    assert out.returncode == 0, out.stderr
    state = json.loads(state_file(tmp_path).read_text())
    assert state["config"].endswith("fleet.yaml")
    fleet = tc(env, tmp_path, "--profile", "fleet", "status", "--json")
    assert json.loads(fleet.stdout)["endpoint"] == state["endpoint"] and NOTE not in fleet.stderr
    sts = boto3_client("sts", state["endpoint"])
    assert sts.get_caller_identity()["Account"] == "100000000000"  # the fleet's monitoring account


def test_the_console_starts_a_background_sandbox_and_says_so_on_exit(env, tmp_path):
    from tests._pty import Terminal

    term = Terminal(CLI, env=env, cwd=tmp_path, cols=200)  # wide enough for the endpoint in the header
    try:
        deadline = time.monotonic() + 90
        while not state_file(tmp_path).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        state = json.loads(state_file(tmp_path).read_text())
        shown = state["endpoint"].split("://", 1)[-1].encode()  # the header shows host:port, no scheme
        assert term.wait_for(shown, 60), term.output[-2000:]  # in the header
        assert b"SANDBOX" in term.output
        term.send(b"q")
        assert term.wait(60) == 0
    finally:
        term.close()
    text = term.output.decode("utf-8", "replace")
    assert f"the sandbox keeps running at {state['endpoint']} (pid {state['pid']}) for later commands" in text
    assert "`tierconsole sandbox stop` stops it" in text
    assert alive(state["pid"]) and background_sandboxes(env) == [state["pid"]]
    # A later command uses it (its steady traffic shows), and a second console attaches instead of starting one.
    out = tc(env, tmp_path, "status", "--json")
    assert json.loads(out.stdout)["endpoint"] == state["endpoint"] and NOTE not in out.stderr
    term = Terminal(CLI, env=env, cwd=tmp_path, cols=200)  # wide enough for the endpoint in the header
    try:
        assert term.wait_for(shown, 60)
        term.send(b"q")
        assert term.wait(60) == 0
    finally:
        term.close()
    assert b"keeps running" not in term.output  # it did not start it: nothing to say
    assert background_sandboxes(env) == [state["pid"]]
