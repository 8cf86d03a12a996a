"""Defects of newcomer trial 2 in the headless commands, each proved end to end: the CLI as a process
(against a sandbox on loopback where the command reaches a service)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import NOVA, boto3_client
from tests.e2e.test_cli_newcomer import audit_of
from tests.e2e.test_headless import batch_file, cli_for

CLI = [sys.executable, "-m", "tierconsole.cli"]


@pytest.fixture
def no_aws_env(xdg_env, tmp_path):
    """A user without any AWS configuration (no ~/.aws/config, no credentials)."""
    env = dict(xdg_env)
    env.update(HOME=str(tmp_path / "home"), AWS_CONFIG_FILE=str(tmp_path / "home" / "nope" / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "home" / "nope" / "credentials"))
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(var, None)
    return env


def tc(env, cwd, *args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=90, env=env, cwd=cwd)


# ------------------------------------------------------------------ 3 + 6. a missing AWS profile
def test_prompt_on_a_missing_aws_profile_is_one_line_and_audited(no_aws_env, tmp_path):
    out = tc(no_aws_env, tmp_path, "--profile", "aws-template", "prompt", "hi", "--model", NOVA, "--max-tokens", "5")
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "'default'" in lines[0] and "nope/config" in lines[0]  # the AWS profile, and where it was looked for
    entries = [a for a in audit_of(tmp_path) if a["action"] == "prompt"]
    assert len(entries) == 1, entries
    assert entries[0]["target"] == NOVA and entries[0]["outcome"] == "failed: ProfileNotFound"


def test_every_command_names_the_missing_aws_profile_the_same_way(no_aws_env, tmp_path):
    out = tc(no_aws_env, tmp_path, "--profile", "aws-template", "batch", "list")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "'default'" in out.stderr and "nope/config" in out.stderr


def test_a_read_only_refused_prompt_names_its_model(sandbox, xdg_env, tmp_path):
    out = cli_for(sandbox, xdg_env, tmp_path)("--read-only", "prompt", "hi", "--model", NOVA)
    assert out.returncode == 1
    assert [(a["target"], a["outcome"]) for a in audit_of(tmp_path)] == [(NOVA, "refused: read-only")]


def test_a_failed_prompt_is_audited_with_its_error_code(sandbox, xdg_env, tmp_path):
    out = cli_for(sandbox, xdg_env, tmp_path)("prompt", "hi", "--model", NOVA, "--tier", "reserved",
                                              "--max-tokens", "5")
    assert out.returncode == 1, out.stderr
    entries = [a for a in audit_of(tmp_path) if a["action"] == "prompt"]
    assert len(entries) == 1 and entries[0]["target"] == NOVA
    assert entries[0]["outcome"].startswith("failed: ") and entries[0]["outcome"] != "failed", entries


# ------------------------------------------------------------------ 4. batch job names checked locally
@pytest.mark.parametrize("name", ["bad name with spaces!", "", "a" * 64, "-lead"])
def test_a_bad_job_name_is_a_usage_error_and_nothing_is_uploaded(sandbox, xdg_env, tmp_path, name):
    path = tmp_path / "in.jsonl"
    batch_file(path, n=100)
    s3 = boto3_client("s3", sandbox.endpoint)

    def keys() -> set[str]:  # the bucket batch submit uploads to (moto's S3 is shared by the process's sandboxes)
        bucket = sandbox.sandbox.config.bucket
        return {f"{bucket}/{o['Key']}" for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}

    before = keys()
    out = cli_for(sandbox, xdg_env, tmp_path)("batch", "submit", str(path), "--model", NOVA, f"--name={name}")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "--name" in out.stderr and "nameContains" not in out.stderr
    assert "63" in out.stderr or "[a-zA-Z0-9]" in out.stderr  # the rule
    assert keys() == before  # nothing uploaded


# ------------------------------------------------------------------ 14. --max-tokens bounded locally
def test_max_tokens_beyond_the_declared_range_is_a_usage_error(xdg_env, tmp_path):
    out = tc(xdg_env, tmp_path, "prompt", "hi", "--model", NOVA, "--max-tokens", "9" * 20)
    assert out.returncode == 2, out.stderr
    assert "--max-tokens" in out.stderr and "at most" in out.stderr


# ------------------------------------------------------------------ 9 + 14. record: existing files, dead sources, wording
def test_record_refuses_an_existing_file_unless_told_to_append(xdg_env, tmp_path):
    path = tmp_path / "s.tcrec"
    run = ("record", str(path), "--scenario", "none", "--interval", "0.3", "--duration", "1s")
    first = tc(xdg_env, tmp_path, *run)
    assert first.returncode == 0, first.stderr
    before = path.read_bytes()
    again = tc(xdg_env, tmp_path, *run)
    assert again.returncode == 2 and "already exists" in again.stderr and "--append" in again.stderr
    assert path.read_bytes() == before  # nothing added
    more = tc(xdg_env, tmp_path, *run, "--append")
    assert more.returncode == 0, more.stderr
    assert "frames recorded" in more.stdout or "1 frame recorded" in more.stdout
    assert "1 frames" not in more.stdout


def test_record_where_every_pane_is_stale_says_so_and_fails(xdg_env, tmp_path):
    path = tmp_path / "dead.tcrec"
    out = tc(xdg_env, tmp_path, "--endpoint-url", "http://127.0.0.1:1", "record", str(path), "--interval", "0.5",
             "--duration", "1s")
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert "no pane could be read" in out.stderr and "1 frames" not in out.stdout + out.stderr


# ------------------------------------------------------------------ 10. a damaged recording in operator words
@pytest.mark.parametrize("value, words", [("NULL", "'schema' is empty"), ("7", "'schema' holds a number"),
                                          ("'{'", "'schema' is not the JSON"),
                                          ("X'ff'", "'schema' is not text")])
def test_a_damaged_meta_entry_is_named_in_operator_words(xdg_env, tmp_path, value, words):
    import sqlite3

    from tests.recording_corpus import write_good

    path = write_good(tmp_path / "dam.tcrec", n=3)
    with sqlite3.connect(path) as db:  # as a damaged page reads: no constraint, no type on the value
        db.executescript("ALTER TABLE meta RENAME TO m0; CREATE TABLE meta (key TEXT PRIMARY KEY, value); "
                         "INSERT INTO meta SELECT * FROM m0; DROP TABLE m0;")
        db.execute(f"UPDATE meta SET value = {value} WHERE key = 'schema'")
    out = tc(xdg_env, tmp_path, "replay", str(path), "--info")
    assert out.returncode == 2, out.stderr
    assert words in out.stderr, out.stderr
    for python in ("NoneType", "must be str", "bytearray", "Expecting", "codec"):
        assert python not in out.stderr, out.stderr


# ------------------------------------------------------------------ 11. replay --at -5m, and replay's --help
@pytest.mark.parametrize("at", [["--at", "-2s"], ["--at=-2s"]])
def test_replay_at_from_the_end_as_help_documents(xdg_env, tmp_path, at):
    from tests.recording_corpus import write_good

    path = write_good(tmp_path / "s.tcrec", n=3)
    out = tc(xdg_env, tmp_path, "replay", str(path), *at, "--info")
    assert out.returncode == 0, out.stderr
    assert "expected one argument" not in out.stderr


def test_replay_help_offers_no_option_that_is_a_usage_error_there(xdg_env, tmp_path):
    out = tc(xdg_env, tmp_path, "replay", "--help")
    assert out.returncode == 0
    for flag in ("--profile", "--endpoint-url", "--region"):
        assert flag not in out.stdout, flag
    assert "--at" in out.stdout and "--theme" in out.stdout
