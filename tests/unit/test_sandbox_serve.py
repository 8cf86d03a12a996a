"""`tierconsole sandbox` as a user runs it: bad addresses and paths are usage errors (exit 2, no
traceback), the banner tells the truth about --auth, and a non-loopback --host without --auth warns."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

KEYS_YAML = "access_keys:\n  AKIATESTSANDBOX00001: s3cr3t-sandbox-key-value\n  AKIATESTSANDBOX00002: another-secret-value\n"


def run(*args: str, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)


def usage_error(out: subprocess.CompletedProcess, *needles: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "error:" in out.stderr, out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr


@pytest.mark.parametrize("host", ["999.1.1.1", "1.2.3.4.5", "256.0.0.1", "not a host!", ""])
def test_a_host_that_is_no_address_is_a_usage_error(host, tmp_path):
    usage_error(run("--host", host, cwd=tmp_path), "--host")


def test_an_address_of_another_machine_is_a_usage_error(tmp_path):
    usage_error(run("--host", "203.0.113.9", cwd=tmp_path), "203.0.113.9")  # TEST-NET-3: never ours


def test_an_access_log_that_is_a_directory_is_a_usage_error(tmp_path):
    usage_error(run("--access-log", str(tmp_path), cwd=tmp_path), "--access-log", str(tmp_path), "directory")


def test_an_access_log_in_a_missing_directory_is_a_usage_error(tmp_path):
    target = tmp_path / "no" / "such" / "access.jsonl"
    usage_error(run("--access-log", str(target), cwd=tmp_path), "--access-log", str(tmp_path / "no" / "such"))


@pytest.mark.parametrize("where", ["missing", "directory"])
def test_a_bad_access_log_in_the_config_names_file_and_line(tmp_path, where):
    import yaml
    from tierconsole.sandbox.config import load_sandbox_config
    doc = yaml.safe_load(open("profiles/sandbox.yaml"))
    target = tmp_path / "missing" / "a.jsonl" if where == "missing" else tmp_path
    doc["sandbox"]["access_log"] = str(target)
    cfg = tmp_path / "sb.yaml"
    cfg.write_text(yaml.safe_dump(doc, sort_keys=False))
    line = next(i for i, text in enumerate(cfg.read_text().splitlines(), 1) if "access_log" in text)
    usage_error(run("--config", str(cfg), cwd=tmp_path), f"{cfg}:{line}: sandbox.access_log")
    with pytest.raises(ValueError, match="sandbox.access_log"):  # the console's embedded sandbox reads it too
        load_sandbox_config(cfg)


class Serving:
    """`tierconsole sandbox` in the background until its banner is printed."""

    def __init__(self, *args: str, cwd):
        self.proc = subprocess.Popen([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
        self.banner: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.banner.append(line)
            if line.startswith("# Ctrl-C"):
                break

    def stop(self) -> str:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
        _out, err = self.proc.communicate(timeout=30)
        return err


def test_with_auth_the_banner_shows_the_configured_key_ids_never_the_secrets(tmp_path):
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    s = Serving("--auth", str(keys), cwd=tmp_path)
    err = s.stop()
    text = "".join(s.banner)
    assert "export AWS_ACCESS_KEY_ID=AKIATESTSANDBOX00001" in text, text
    assert "AKIATESTSANDBOX00002" in text and str(keys) in text
    assert "AWS_ACCESS_KEY_ID=sandbox" not in text and "AWS_SECRET_ACCESS_KEY=sandbox" not in text
    assert "s3cr3t" not in text + err and "another-secret" not in text + err
    assert "warning" not in err


def test_without_auth_the_banner_keeps_the_sandbox_keys(tmp_path):
    s = Serving(cwd=tmp_path)
    err = s.stop()
    assert "export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox" in "".join(s.banner)
    assert "warning" not in err  # loopback


def test_a_non_loopback_host_without_auth_warns_naming_the_exposure(tmp_path):
    s = Serving("--host", "0.0.0.0", cwd=tmp_path)
    err = s.stop()
    assert s.banner, err
    assert "warning" in err and "0.0.0.0" in err and "--auth" in err and "any credentials" in err, err


def test_a_non_loopback_host_with_auth_does_not_warn(tmp_path):
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    s = Serving("--host", "0.0.0.0", "--auth", str(keys), cwd=tmp_path)
    err = s.stop()
    assert s.banner and "warning" not in err, err
