"""Defects a newcomer found in the headless commands (newcomer trial of issues 11 and 12), each proved
end to end: the CLI as a process against a sandbox on loopback."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NOVA
from tests.e2e.test_headless import batch_file, cli_for

CLI = [sys.executable, "-m", "tierconsole.cli"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(xdg_env):
    return xdg_env


def audit_of(tmp_path) -> list[dict]:
    path = tmp_path / "state" / "tierconsole" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def write_profile(tmp_path, name: str, body: str) -> None:
    folder = tmp_path / "cfg" / "tierconsole" / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(body)


# ------------------------------------------------------------------ 3. read-only refuses test prompts
def test_read_only_refuses_a_test_prompt_by_default_and_audits_it(sandbox, env, tmp_path):
    cli = cli_for(sandbox, env, tmp_path)
    for argv in (["--read-only", "prompt", "hi", "--model", NOVA], ["prompt", "hi", "--model", NOVA, "--read-only"]):
        out = cli(*argv)
        assert out.returncode == 1, (argv, out.stdout, out.stderr)
        assert "test prompts refused" in out.stderr and "read-only" in out.stderr
        assert "allow_prompts_in_read_only: true" in out.stderr  # how to allow them
        assert "Traceback" not in out.stderr and out.stdout == ""
    assert [(a["action"], a["outcome"]) for a in audit_of(tmp_path)] == [("prompt", "refused: read-only")] * 2
    assert not (tmp_path / "data" / "tierconsole" / "history.jsonl").exists()  # nothing was sent


def test_a_read_only_profile_that_allows_prompts_sends_them(sandbox, env, tmp_path):
    write_profile(tmp_path, "watch", f"name: watch\nendpoint_url: {sandbox.endpoint}\nread_only: true\n"
                                     "allow_prompts_in_read_only: true\n")
    out = subprocess.run([*CLI, "--profile", "watch", "prompt", "hi", "--model", NOVA, "--json", "--max-tokens", "8"],
                         capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"] is True
    # ...and still refuses a batch cancel
    out = subprocess.run([*CLI, "--profile", "watch", "batch", "cancel", "job-1", "--yes"],
                         capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
    assert out.returncode == 1 and "batch-cancel refused" in out.stderr


def test_read_only_help_says_it_refuses_prompts_too():
    for argv in (["--help"], ["prompt", "--help"], ["batch", "cancel", "--help"]):
        out = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=60)
        help_text = " ".join(out.stdout.split())
        assert "--read-only refuse every mutating action (batch submit, cancel) and test prompts" in help_text, argv


# ------------------------------------------------------------------ 7. plan into a closed pipe
def test_plan_into_a_pipe_closed_early_ends_quietly_with_141(sandbox, env, tmp_path):
    """``plan ... | head -2`` exited 1 silently (Rich's own broken-pipe exit); every other command gives 141."""
    from tests.e2e.test_cli_hardening import _into_a_closed_pipe
    from tests.e2e.test_plan_cli import generated, recent_first_minute, write

    write(sandbox, NOVA, recent_first_minute(), generated(1))
    for extra in ([], ["--json"]):
        code, err = _into_a_closed_pipe([*CLI, "plan", "--model", NOVA, "--days", "1", *extra,
                                         "--endpoint-url", sandbox.endpoint], env, tmp_path)
        assert "Traceback" not in err and "Exception ignored" not in err, err
        assert (code, err) == (141, ""), extra
