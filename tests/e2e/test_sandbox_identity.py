"""The background sandbox is the one this user started, or nothing: a foreign server on the port (an
``http.server``, another user's sandbox) is never taken for it, by ``sandbox start``, by the console
starting one, or by a profile attaching to the one recorded. And configs are compared by what they say,
not by where the file is. Real processes, each test with its own XDG directories."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib import resources

import pytest

from tests.conftest import NOVA, boto3_client
from tests.e2e.test_headless import batch_file
from tests.e2e.test_sandbox_daemon import NOTE, alive, background_sandboxes, state_file, tc

DEFAULT_PORT = 4599


@pytest.fixture
def env(xdg_env):
    return xdg_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextlib.contextmanager
def foreign_http_server(tmp_path, port: int | None = None):
    """``python3 -m http.server PORT`` on loopback (a port of its own unless one is given); yields its URL."""
    port = port or _free_port()
    root = tmp_path / "www"
    root.mkdir(exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _answers(url + "/"):
            assert proc.poll() is None and time.monotonic() < deadline, "http.server did not start"
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def foreign_http_server_on_the_default_port(tmp_path):
    """An HTTP server (as ``python3 -m http.server 4599``) holding port 4599, run in a thread of this
    process so that holding the port is one atomic bind; on a shared machine, waits for the port to be free."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    deadline = time.monotonic() + 90
    while True:
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", DEFAULT_PORT), handler)
            break
        except OSError:
            if time.monotonic() > deadline:
                pytest.skip("port 4599 stayed taken by another process for 90 s")
            time.sleep(0.2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{DEFAULT_PORT}"
        assert _answers(url + "/")
        yield url
    finally:
        server.shutdown()
        server.server_close()


def impostor_process() -> subprocess.Popen:
    """A live process whose command line says tierconsole (a reused pid, a console, a stranger's sandbox)."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "tierconsole", "sandbox"])


# ---------------------------------------------------------------- 1. the wrong target, never

def test_start_on_a_port_an_http_server_holds_is_exit_2_and_records_nothing(env, tmp_path):
    with foreign_http_server(tmp_path) as url:
        port = url.rsplit(":", 1)[1]
        out = tc(env, tmp_path, "sandbox", "start", "--port", port, "--scenario", "none")
        assert out.returncode == 2, (out.stdout, out.stderr)
        assert f"127.0.0.1:{port} is already in use" in out.stderr and "Traceback" not in out.stderr
        assert "sandbox started" not in out.stdout
        assert not state_file(tmp_path).exists() and background_sandboxes(env) == []
        st = tc(env, tmp_path, "sandbox", "status")
        assert st.returncode == 3


def test_the_console_start_path_falls_back_to_a_free_port_past_a_foreign_server(env, tmp_path, monkeypatch):
    """What the TUI does with no background sandbox (LiveSource in ``keep`` mode): start one, on 4599 when
    free, else on a free port; never take the server that holds 4599 for its own."""
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(var, env[var])
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    from tierconsole.core.config.profiles import load_profile
    from tierconsole.core.source import LiveSource

    with foreign_http_server_on_the_default_port(tmp_path) as foreign:
        source = LiveSource(load_profile("sandbox"), sandbox="keep")
        try:
            source.start()
            assert source.background is not None, source.notice
            endpoint = source.background.endpoint
            assert endpoint != foreign
            state = json.loads(state_file(tmp_path).read_text())
            assert state["endpoint"] == endpoint and state["pid"] == source.background.pid and alive(state["pid"])
            # It is really the sandbox: a real client gets the sandbox's account there.
            ident = boto3_client("sts", endpoint).get_caller_identity()
            assert ident["Account"] == "123456789012"
            data = asyncio.run(source.refresh())
            assert all(s.ok for s in data.status.values()), data.status
        finally:
            asyncio.run(source.close())


def _start(env, tmp_path, *more):
    out = tc(env, tmp_path, "sandbox", "start", "--port", "0", "--scenario", "none", *more)
    assert out.returncode == 0, out.stderr
    return out, json.loads(state_file(tmp_path).read_text())


def test_a_recorded_sandbox_that_is_not_there_is_stale_never_attached_nor_signalled(env, tmp_path):
    _, real = _start(env, tmp_path)
    impostor = impostor_process()
    try:
        # The recorded sandbox is gone; its port is now a stranger's, and its pid a live process that says
        # tierconsole. Nothing may attach to that endpoint or signal that pid.
        os.kill(real["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while alive(real["pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        with foreign_http_server(tmp_path) as url:
            path = state_file(tmp_path)
            path.write_text(json.dumps({**real, "pid": impostor.pid, "endpoint": url}))
            st = tc(env, tmp_path, "status", "--json")
            assert st.returncode == 0, st.stderr
            assert json.loads(st.stdout)["endpoint"] != url and NOTE in st.stderr
            assert not path.exists()  # stale: removed
            path.write_text(json.dumps({**real, "pid": impostor.pid, "endpoint": url}))
            stop = tc(env, tmp_path, "sandbox", "stop")
            assert stop.returncode == 0 and "no background sandbox is running" in stop.stdout, stop.stdout
            assert impostor.poll() is None, "sandbox stop signalled a process that is not its sandbox"
            path.write_text(json.dumps({**real, "pid": impostor.pid, "endpoint": url}))
            st = tc(env, tmp_path, "sandbox", "status")
            assert st.returncode == 3 and not path.exists()
            # A start over it starts a sandbox of its own.
            path.write_text(json.dumps({**real, "pid": impostor.pid, "endpoint": url}))
            out = tc(env, tmp_path, "sandbox", "start", "--port", "0", "--scenario", "none")
            assert out.returncode == 0 and "sandbox started at" in out.stdout, (out.stdout, out.stderr)
            assert json.loads(path.read_text())["pid"] not in (impostor.pid, real["pid"])
    finally:
        impostor.kill()
        impostor.wait()


def test_a_live_sandbox_whose_endpoint_is_not_itself_is_never_attached(env, tmp_path):
    """The recorded pid is the sandbox, but the recorded endpoint is another server: nothing attaches to
    it, status says so (exit 1, not 0), a start refuses to start a second one, and stop stops it."""
    _, real = _start(env, tmp_path)
    with foreign_http_server(tmp_path) as url:
        path = state_file(tmp_path)
        path.write_text(json.dumps({**real, "endpoint": url}))
        st = tc(env, tmp_path, "status", "--json")
        assert json.loads(st.stdout)["endpoint"] != url and NOTE in st.stderr
        note = next(line for line in st.stderr.splitlines() if NOTE in line)
        assert "does not answer there as itself" in note and "`tierconsole sandbox stop`" in note, note
        sst = tc(env, tmp_path, "sandbox", "status")
        assert sst.returncode == 1 and "does not answer there as itself" in sst.stdout, sst.stdout
        again = tc(env, tmp_path, "sandbox", "start", "--port", "0")
        assert again.returncode == 1 and "does not answer there as itself" in again.stderr
        assert json.loads(path.read_text())["pid"] == real["pid"] and background_sandboxes(env) == [real["pid"]]
        stop = tc(env, tmp_path, "sandbox", "stop")
        assert stop.returncode == 0 and f"(pid {real['pid']})" in stop.stdout
        assert not alive(real["pid"]) and not path.exists()


def test_another_sandbox_at_the_recorded_endpoint_is_not_ours(env, tmp_path):
    """Another user's (or another XDG directory's) sandbox answering at the recorded endpoint, under a
    recorded pid that is alive: its identity is not the recorded one, so nothing attaches to it."""
    other_env = {**env, "XDG_RUNTIME_DIR": str(tmp_path / "other-run")}
    other = tc(other_env, tmp_path, "sandbox", "start", "--port", "0", "--scenario", "none")
    assert other.returncode == 0, other.stderr
    theirs = json.loads((tmp_path / "other-run" / "tierconsole" / "sandbox.json").read_text())
    impostor = impostor_process()
    try:
        _, mine = _start(env, tmp_path)
        os.kill(mine["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while alive(mine["pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        path = state_file(tmp_path)
        path.write_text(json.dumps({**mine, "pid": impostor.pid, "endpoint": theirs["endpoint"]}))
        st = tc(env, tmp_path, "batch", "list", "--json")
        assert st.returncode == 0 and NOTE in st.stderr, st.stderr
        assert not path.exists()
    finally:
        impostor.kill()
        impostor.wait()
        tc(other_env, tmp_path, "sandbox", "stop")


# ---------------------------------------------------------------- 2. configs compared by content

def _checkout(tmp_path):
    """A working directory like the repository's: ./profiles/sandbox.yaml, the same file as the built-in."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = resources.files("tierconsole.profiles").joinpath("sandbox.yaml").read_text()
    (profiles / "sandbox.yaml").write_text(text)
    return profiles, text


def test_from_a_checkout_the_project_sandbox_profile_shares_the_background_sandbox(env, tmp_path):
    _checkout(tmp_path)
    assert "project" in tc(env, tmp_path, "profiles").stdout
    _, state = _start(env, tmp_path)
    sub = tc(env, tmp_path, "batch", "submit", str(batch_file(tmp_path / "in.jsonl", n=110)), "--model", NOVA,
             "--name", "nightly", "--json")
    assert sub.returncode == 0 and NOTE not in sub.stderr, sub.stderr
    listed = tc(env, tmp_path, "batch", "list", "--json")
    assert NOTE not in listed.stderr and [j["jobName"] for j in json.loads(listed.stdout)] == ["nightly"]
    # The same config asked again (the project file, same content): already running, exit 0.
    again = tc(env, tmp_path, "--profile", "sandbox", "sandbox", "start")
    assert again.returncode == 0 and f"already running at {state['endpoint']}" in again.stdout, again.stdout


def test_a_start_asking_another_config_says_which_runs_and_fails(env, tmp_path):
    profiles, text = _checkout(tmp_path)
    drill = profiles / "drill.yaml"
    assert '  account_id: "123456789012"' in text
    drill.write_text(text.replace("name: sandbox", "name: drill").replace('"123456789012"', '"210987654321"'))
    _, state = _start(env, tmp_path)
    asked = tc(env, tmp_path, "--profile", "drill", "sandbox", "start", "--port", "0")
    assert asked.returncode not in (0, 2), asked
    said = asked.stderr
    assert "already running" not in asked.stdout
    assert state["endpoint"] in said and str(drill.resolve()) in said and "built-in" in said, said
    assert "`tierconsole sandbox stop`" in said
    # The drill profile runs throwaway, and its note suggests what works: stop, then start from its file.
    st = tc(env, tmp_path, "--profile", "drill", "status", "--json")
    assert st.returncode == 0 and NOTE in st.stderr
    note = next(line for line in st.stderr.splitlines() if NOTE in line)
    assert "''" not in note and "`tierconsole sandbox stop`" in note, note
    assert "`tierconsole --profile drill sandbox start`" in note, note
    # Following the note works.
    assert tc(env, tmp_path, "sandbox", "stop").returncode == 0
    out = tc(env, tmp_path, "--profile", "drill", "sandbox", "start", "--port", "0", "--scenario", "none")
    assert out.returncode == 0 and "sandbox started at" in out.stdout, out.stderr
    st = tc(env, tmp_path, "--profile", "drill", "status", "--json")
    assert NOTE not in st.stderr and json.loads(st.stdout)["account_id"] == "210987654321"


# ---------------------------------------------------------------- 12 and 16: what start/status say

def test_background_start_with_auth_exports_the_key_id_never_the_secret(env, tmp_path):
    keys = tmp_path / "keys.yaml"
    keys.write_text("access_keys:\n  AKIDSANDBOXTEST01: s3cr3t-sandbox-key-01\n  AKIDSANDBOXTEST02: s3cr3t-2\n")
    out, _ = _start(env, tmp_path, "--auth", str(keys))
    assert "export AWS_ACCESS_KEY_ID=AKIDSANDBOXTEST01" in out.stdout, out.stdout
    assert "AKIDSANDBOXTEST02" in out.stdout and "s3cr3t" not in out.stdout + out.stderr


def test_status_wording_and_private_access_log(env, tmp_path):
    old = os.umask(0o022)
    try:
        log = tmp_path / "access.jsonl"
        _start(env, tmp_path, "--access-log", str(log))
    finally:
        os.umask(old)
    boto3_client("sts", json.loads(state_file(tmp_path).read_text())["endpoint"]).get_caller_identity()
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    st = tc(env, tmp_path, "sandbox", "status")
    assert st.returncode == 0 and "`" not in st.stdout and "scenario none" in st.stdout, st.stdout


def test_endpoint_url_refused_for_sandbox_status_names_the_real_reason(env, tmp_path):
    out = tc(env, tmp_path, "sandbox", "status", "--endpoint-url", "http://127.0.0.1:1")
    assert out.returncode == 2
    [reason] = [line for line in out.stderr.splitlines() if "error:" in line]
    assert "--endpoint-url" in reason and "endpoint" in reason.split("--endpoint-url", 1)[1], reason
    assert "region" not in reason, reason


def test_the_foreground_sandbox_says_stopping_on_a_line_of_its_own(env, tmp_path):
    """Ctrl-C in a terminal echoes ``^C`` without a newline: the message starts a line of its own."""
    from tests._pty import Terminal

    term = Terminal([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", "--scenario", "none"],
                    env=env, cwd=tmp_path)
    try:
        assert term.wait_for(b"Ctrl-C stops the sandbox", 60), term.output[-2000:]
        term.send(b"\x03")
        assert term.wait(30) == 0
    finally:
        term.close()
    tail = term.output.decode("utf-8", "replace").replace("\r\n", "\n")
    assert "\nstopping sandbox\u2026\n" in tail, repr(tail[-200:])


def test_batch_jobs_are_regional_as_on_aws(sandbox):
    """A job lives in the region it was created in: another region's endpoint neither lists nor finds it."""
    import botocore.exceptions

    east = boto3_client("bedrock", sandbox.endpoint)
    import boto3

    west = boto3.client("bedrock", endpoint_url=sandbox.endpoint, region_name="eu-west-1",
                        aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    arn = east.create_model_invocation_job(
        jobName="regional", roleArn="arn:aws:iam::123456789012:role/r", modelId=NOVA,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/in.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/out/"}})["jobArn"]
    assert ":us-east-1:" in arn
    assert [j["jobArn"] for j in east.list_model_invocation_jobs()["invocationJobSummaries"]] == [arn]
    assert west.list_model_invocation_jobs()["invocationJobSummaries"] == []
    for call in (lambda: west.get_model_invocation_job(jobIdentifier=arn),
                 lambda: west.stop_model_invocation_job(jobIdentifier=arn),
                 lambda: west.get_model_invocation_job(jobIdentifier=arn.rsplit("/", 1)[1])):
        with pytest.raises(botocore.exceptions.ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert east.get_model_invocation_job(jobIdentifier=arn)["status"] != "Stopping"
