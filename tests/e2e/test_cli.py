"""The command line as a user runs it: real processes, real exit codes, real output."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tierconsole import __version__

CLI = [sys.executable, "-m", "tierconsole.cli"]


def run(*args, timeout=60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, **kw)


def test_version_and_help():
    assert run("--version").stdout.strip() == f"tierconsole {__version__}"
    out = run("--help")
    assert out.returncode == 0 and "sandbox" in out.stdout
    out = run("sandbox", "--help")
    assert out.returncode == 0
    for flag in ("--host", "--port", "--config", "--scenario", "--speed"):
        assert flag in out.stdout


@pytest.mark.parametrize("args, needle", [
    (("sandbox", "--speed", "0"), "--speed"),
    (("sandbox", "--speed", "fast"), "not a number"),
    (("sandbox", "--port", "70000"), "0-65535"),
    (("bogus",), "invalid choice"),
])
def test_bad_arguments_are_usage_errors(args, needle):
    out = run(*args)
    assert out.returncode == 2 and needle in out.stderr


def _start(*args) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([*CLI, "sandbox", "--port", "0", "--scenario", "none", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("endpoint: "):
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError(f"no endpoint line: {lines} {proc.stderr.read()}")


def test_sandbox_prints_endpoint_and_exports_and_stops_on_ctrl_c(tmp_path):
    log = tmp_path / "access.jsonl"
    proc, banner = _start("--access-log", str(log))
    try:
        endpoint = banner.strip().splitlines()[-1].split(" ", 1)[1]
        assert endpoint.startswith("http://127.0.0.1:")
        rest = proc.stdout.readline() + proc.stdout.readline() + proc.stdout.readline()
        assert f"export AWS_ENDPOINT_URL={endpoint}" in rest
        from tests.conftest import boto3_client
        assert boto3_client("sts", endpoint).get_caller_identity()["Account"] == "123456789012"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    entries = log.read_text().splitlines()
    assert any('"service": "sts"' in e for e in entries)


def test_port_in_use_is_a_clear_error_with_exit_2():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = run("sandbox", "--port", str(port), "--scenario", "none")
    assert out.returncode == 2
    assert f"127.0.0.1:{port} is already in use" in out.stderr
    assert "Traceback" not in out.stderr


def test_broken_config_names_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sandbox:\n  models:\n    - id: m1\n      tpm: lots\n      rpm: 10\n      max_output_tokens: 5\n")
    out = run("sandbox", "--config", str(bad))
    assert out.returncode == 2
    assert f"{bad}:4: sandbox.models[0].tpm: must be int" in out.stderr
    bad.write_text("sandbox:\n  models: [\n")
    out = run("sandbox", "--config", str(bad))
    assert out.returncode == 2 and f"{bad}:" in out.stderr and "YAML syntax error" in out.stderr
    out = run("sandbox", "--config", str(tmp_path / "missing.yaml"))
    assert out.returncode == 2 and "missing.yaml" in out.stderr and "cannot read" in out.stderr
