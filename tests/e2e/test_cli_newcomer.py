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
        assert "test prompts refused: --read-only was given" in out.stderr, out.stderr
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


# ------------------------------------------------------------------ 14. status --fail-over
def _status(endpoint, env, tmp_path, *args):
    return subprocess.run([*CLI, "status", "--endpoint-url", endpoint, *args], capture_output=True, text=True,
                          timeout=90, env=env, cwd=tmp_path)


@pytest.mark.parametrize("value", ["1.5", "80", "0", "-0.2", "nan"])
def test_fail_over_outside_0_to_1_is_a_usage_error_naming_the_value(env, tmp_path, value):
    out = _status("http://127.0.0.1:9", env, tmp_path, "--fail-over", value)
    assert out.returncode == 2, (value, out.stderr)
    assert "--fail-over" in out.stderr and value in out.stderr and out.stdout == ""
    if value in ("1.5", "80"):
        assert "a fraction" in out.stderr and "0.8" in out.stderr  # how to say 80%


async def test_fail_over_names_every_quota_and_reservation_over_like_the_marks(make_sandbox, env, tmp_path):
    from tests.conftest import SONNET, aio_client, clear_of_minute_end, user

    sb = make_sandbox(speed=1.0)  # metrics on the wall clock, as a separate status process reads them
    clear_of_minute_end()
    async with aio_client("bedrock-runtime", sb.endpoint) as c:
        await c.converse(modelId=NOVA, messages=user("y" * 20_000), inferenceConfig={"maxTokens": 200})
        await c.converse(modelId=SONNET, messages=user("z" * 20_000), inferenceConfig={"maxTokens": 200},
                         serviceTier={"type": "reserved"})
        await c.converse(modelId=SONNET, messages=user("w" * 20_000), inferenceConfig={"maxTokens": 200})
    import asyncio

    await asyncio.sleep(1.5)  # the metrics publisher flushes once a second
    out = _status(sb.endpoint, env, tmp_path, "--fail-over", "0.001")
    assert out.returncode == 3, out.stderr
    marked = [line for line in out.stdout.splitlines() if line.startswith("▲")]
    assert len(marked) == 3, out.stdout  # Nova's quota, Sonnet's quota, Sonnet's reservation
    assert "2 quotas and 1 reservation over 0.1%" in out.stdout, out.stdout
    assert "3 over 0.1%" in out.stderr, out.stderr
    assert NOVA in out.stderr and SONNET in out.stderr and "reservation sonnet-reserved-1" in out.stderr


# ------------------------------------------------------------------ 4. job ids in the list; names accepted
def test_batch_list_shows_ids_and_show_and_cancel_take_a_unique_name(make_sandbox, env, tmp_path):
    sandbox = make_sandbox(speed=2.0)  # the jobs are still running when cancelled
    cli = cli_for(sandbox, env, tmp_path)
    out = cli("batch", "submit", str(batch_file(tmp_path / "a.jsonl", n=150)), "--model", NOVA, "--name", "authjob",
              "--json")
    assert out.returncode == 0, out.stderr
    arn = json.loads(out.stdout)["jobArn"]
    job_id = arn.rsplit("/", 1)[1]
    listed = cli("batch", "list")
    assert listed.returncode == 0, listed.stderr
    head, row = listed.stdout.splitlines()[:2]
    assert head.split()[:2] == ["name", "id"] and row.split()[:2] == ["authjob", job_id], listed.stdout
    assert [j["jobId"] for j in json.loads(cli("batch", "list", "--json").stdout)] == [job_id]

    for ref in ("authjob", job_id, arn):  # a name, an id or an ARN: the same job
        shown = cli("batch", "show", ref, "--json")
        assert shown.returncode == 0, (ref, shown.stderr)
        assert json.loads(shown.stdout)["jobArn"] == arn
    assert "authjob" in cli("batch", "show", "authjob").stdout

    missing = cli("batch", "show", "auth")  # a part of a name is not a name
    assert missing.returncode == 1 and "no batch job named or with id 'auth'" in missing.stderr, missing.stderr

    # a second job of the same name (another file): the name no longer says which, and nothing is cancelled
    out = cli("batch", "submit", str(batch_file(tmp_path / "b.jsonl", n=160)), "--model", NOVA, "--name", "authjob",
              "--json")
    other = json.loads(out.stdout)["jobArn"].rsplit("/", 1)[1]
    for argv in (("batch", "show", "authjob"), ("batch", "cancel", "authjob", "--yes")):
        amb = cli(*argv)
        assert amb.returncode == 2, (argv, amb.stderr)
        assert "2 jobs are named 'authjob'" in amb.stderr and job_id in amb.stderr and other in amb.stderr
        assert "give the id" in amb.stderr
    assert all(j["status"] not in ("Stopping", "Stopped") for j in json.loads(cli("batch", "list", "--json").stdout))
    assert [(a["action"], a["target"], a["outcome"]) for a in audit_of(tmp_path) if a["action"] == "batch-cancel"] \
        == [("batch-cancel", "authjob", "refused: ambiguous job name")]


@pytest.mark.parametrize("action", ["show", "cancel"])
@pytest.mark.parametrize("ref, needle", [("", "empty"), ("  ", "empty"), ("a b", "not a job id, ARN or name")])
def test_an_empty_or_malformed_job_is_a_usage_error(sandbox, env, tmp_path, action, ref, needle):
    extra = ["--yes"] if action == "cancel" else []
    out = cli_for(sandbox, env, tmp_path)("batch", action, ref, *extra)
    assert out.returncode == 2, out.stderr
    assert "argument job:" in out.stderr and needle in out.stderr and "Traceback" not in out.stderr
    assert "UnknownOperation" not in out.stderr and "ValidationException" not in out.stderr


# ------------------------------------------------------------------ 5. retried submit and cancel
def test_a_retried_cancel_is_idempotent_and_a_resubmit_says_it_is_the_old_job(make_sandbox, env, tmp_path):
    sandbox = make_sandbox(speed=2.0)
    cli = cli_for(sandbox, env, tmp_path)
    f = batch_file(tmp_path / "in.jsonl", n=150)
    first = cli("batch", "submit", str(f), "--model", NOVA, "--name", "stopme")
    assert first.returncode == 0 and first.stdout.startswith("submitted stopme: "), first.stdout
    assert "existing" not in first.stdout
    # the same submit while it runs: the same job, said so, still exit 0
    again = cli("batch", "submit", str(f), "--model", NOVA, "--name", "stopme")
    assert again.returncode == 0, again.stderr
    assert "existing job stopme" in again.stdout and "earlier identical submit" in again.stdout, again.stdout

    cancel = cli("batch", "cancel", "stopme", "--yes")
    assert cancel.returncode == 0, cancel.stderr
    assert "cancelled stopme" in cancel.stdout, cancel.stdout
    retried = cli("batch", "cancel", "stopme", "--yes")
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.startswith("stopme (") and "): already stopp" in retried.stdout, retried.stdout

    resubmit = cli("batch", "submit", str(f), "--model", NOVA, "--name", "stopme")
    assert resubmit.returncode == 1, (resubmit.stdout, resubmit.stderr)
    said = resubmit.stdout + resubmit.stderr
    assert "existing job stopme" in said and "earlier identical submit" in said
    assert "(Stopping)" in said or "(Stopped)" in said
    assert "nothing new was submitted" in said and "give a new --name" in said
    as_json = cli("batch", "submit", str(f), "--model", NOVA, "--name", "stopme", "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["existingJob"] is True

    audit = [(a["action"], a["outcome"]) for a in audit_of(tmp_path) if a["action"].startswith("batch")]
    assert audit[:2] == [("batch-submit", "ok"), ("batch-submit", "existing job (InProgress)")] or \
        audit[1][1].startswith("existing job (")
    assert audit[2] == ("batch-cancel", "ok")
    assert audit[3][0] == "batch-cancel" and audit[3][1] in ("already stopping", "already stopped")
    assert audit[4][0] == "batch-submit" and audit[4][1] in ("existing job (Stopping)", "existing job (Stopped)")


# ------------------------------------------------------------------ 8. plan of an unknown model, or of no traffic
def _plan(sandbox, env, tmp_path, *args):
    return subprocess.run([*CLI, "plan", *args, "--days", "1", "--endpoint-url", sandbox.endpoint],
                          capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_plan_of_an_unknown_model_is_a_usage_error_naming_the_known_ones(sandbox, env, tmp_path, extra):
    from tests.conftest import GPT, SONNET

    out = _plan(sandbox, env, tmp_path, "--model", "nope", *extra)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == "" and "unknown model 'nope'" in out.stderr
    assert NOVA in out.stderr and GPT in out.stderr and SONNET in out.stderr  # the known ones


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_plan_of_a_model_with_no_traffic_says_so_rather_than_a_zero_report(sandbox, env, tmp_path, extra):
    out = _plan(sandbox, env, tmp_path, "--model", NOVA, *extra)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert f"no traffic or metrics for {NOVA} in the window" in out.stderr, out.stderr
    assert "Monthly cost" not in out.stdout and out.stdout == ""


# ------------------------------------------------------------------ 16. profiles validated at listing as at use
@pytest.mark.parametrize("value", ["1e308", "1.0e+308", ".inf", "-5"])
def test_profiles_lists_a_profile_with_a_bad_sandbox_number_as_broken_as_its_use_does(env, tmp_path, value):
    text = (ROOT / "profiles" / "sandbox.yaml").read_text().replace("name: sandbox", "name: big", 1)
    assert "      tpm: 120000\n" in text
    write_profile(tmp_path, "big", text.replace("      tpm: 120000\n", f"      tpm: {value}\n", 1))
    line = text[:text.index("      tpm: 120000\n")].count("\n") + 1
    listed = subprocess.run([*CLI, "profiles"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert listed.returncode == 1, listed.stdout
    row = next(r for r in listed.stdout.splitlines() if r.startswith("big "))
    assert "ERROR" in row and f"big.yaml:{line}" in row and "sandbox.models[0].tpm" in row, row
    used = subprocess.run([*CLI, "--profile", "big", "status"], capture_output=True, text=True, timeout=60, env=env,
                          cwd=tmp_path)
    assert used.returncode == 2 and f"big.yaml:{line}: sandbox.models[0].tpm" in used.stderr, used.stderr
    # the same words in both places
    assert row.split("ERROR: ", 1)[1].strip() == used.stderr.split("error: ", 1)[1].strip()


# ------------------------------------------------------------------ 16. a hung CloudWatch: the bound holds
def test_a_hung_cloudwatch_ends_status_within_timeouts_calls_and_names_the_setting(make_sandbox, env, tmp_path):
    """A ``slow=`` CloudWatch made ``status`` take two read timeouts (ListMetrics, then GetMetricData, one
    after the other) and say only "timed out". One refresh is bounded by ``timeouts.calls`` in total."""
    import time

    healthy = make_sandbox(speed=1.0)
    hung = make_sandbox(speed=1.0, faults="slow=60s:monitoring")
    for name, sb in (("healthy", healthy), ("hung", hung)):
        write_profile(tmp_path, name, f"name: {name}\nendpoint_url: {sb.endpoint}\ntimeouts: {{calls: 3}}\n")

    def timed(name):
        t0 = time.monotonic()
        out = subprocess.run([*CLI, "--profile", name, "status"], capture_output=True, text=True, timeout=120,
                             env=env, cwd=tmp_path)
        return out, time.monotonic() - t0

    ok, base = timed("healthy")
    assert ok.returncode == 0, ok.stderr
    out, took = timed("hung")
    assert out.returncode == 1, out.stderr
    assert "no answer within 3 s (the profile's timeouts.calls)" in out.stderr, out.stderr
    assert "STALE:" in out.stdout and "timeouts.calls" in out.stdout
    # one bound of 3 s for the whole collection (two 3 s timeouts in a row before), beside the healthy run
    assert took - base < 4.5, (took, base)
