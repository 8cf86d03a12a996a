"""Batch submit and prompt hardening: text that is not Unicode is caught before anything is sent,
a retried submit without --name is one job, and every failure of a submit is audited."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierconsole.core.ops.batch import job_name_for
from tierconsole.cli.main import PATH_ARGUMENTS, build_parser, undecodable_argument
from tierconsole.core.domain.batchfile import validate_batch
from tests.conftest import NOVA, SONNET, boto3_client
from tests.e2e.test_headless import cli, env  # noqa: F401 - fixtures: the CLI as a process against the sandbox

CLI = [sys.executable, "-m", "tierconsole.cli"]


def record(i: int, text: str = "q") -> dict:
    return {"recordId": f"r{i}", "modelInput": {"messages": [{"role": "user", "content": [{"text": f"{text}{i}"}]}],
                                                 "inferenceConfig": {"maxTokens": 16}}}


def jsonl_lines(n: int = 120) -> list[str]:
    return [json.dumps(record(i)) for i in range(n)]


# --- lone surrogates in a batch file --------------------------------------------------------------
def test_a_lone_surrogate_escape_is_a_line_error_naming_the_field():
    lines = jsonl_lines(5)
    lines[2] = lines[2].replace('"q2"', '"q\\ud800x"')  # valid JSON, not valid Unicode
    lines[4] = '{"recordId": "r4", "modelInput": {"\\udfff": 1}}'  # in a key
    report = validate_batch("\n".join(lines).encode(), require_records=False)
    assert [n for n, _ in report.errors] == [3, 5]
    assert "modelInput.messages[0].content[0].text" in report.errors[0][1] and "\\ud800" in report.errors[0][1]
    assert "lone surrogate" in report.errors[1][1] and "\\udfff" in report.errors[1][1]
    assert [r.line for r in report.records] == [1, 2, 4]


def test_a_surrogate_pair_is_one_character_and_fine():
    line = json.dumps(record(0, "emoji \U0001F600"))  # json.dumps writes it as the pair \ud83d\ude00
    assert "\\ud83d\\ude00" in line
    report = validate_batch(line.encode(), require_records=False)
    assert report.ok and report.records[0].model_input["messages"][0]["content"][0]["text"] == "emoji \U0001F6000"


json_leaves = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
               | st.text(max_size=6))
json_values = st.recursive(json_leaves, lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=6), children, max_size=3), max_leaves=10)
surrogates = st.integers(0xD800, 0xDFFF).map(chr)


@st.composite
def records_with_a_surrogate(draw):
    """A record with a lone surrogate put into one of its strings (a key or a value, at any depth)."""
    body = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=3))
    where = draw(st.sampled_from(["key", "value", "deep", "recordId"]))
    bad = draw(st.text(max_size=3)) + draw(surrogates) + draw(st.text(max_size=3))
    doc = {"recordId": "r", "modelInput": body}
    if where == "key":
        body[bad] = 1
    elif where == "value":
        body["k"] = bad
    elif where == "deep":
        body["k"] = [{"x": [draw(json_values), bad]}]
    else:
        doc["recordId"] = bad
    return doc


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=4), records_with_a_surrogate(), st.randoms(use_true_random=False))
def test_any_lone_surrogate_anywhere_is_caught_on_its_line(others, bad, rnd):
    """The class: a record holding any lone surrogate, anywhere, is an error on its line; and every
    record that is accepted can be encoded as UTF-8 (what an upload and Bedrock need)."""
    lines = [json.dumps({"recordId": f"o{i}", "modelInput": {"v": v}}) for i, v in enumerate(others)]
    at = rnd.randrange(len(lines) + 1)
    lines.insert(at, json.dumps(bad))  # ensure_ascii: the surrogate is written as a \\uXXXX escape
    report = validate_batch("\n".join(lines).encode("ascii"), require_records=False)
    assert at + 1 in [n for n, _ in report.errors], report.errors
    message = dict(report.errors)[at + 1]
    assert "lone surrogate" in message and len(message) < 300
    for r in report.records:
        json.dumps(r.model_input, ensure_ascii=False).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_whatever_the_bytes_accepted_records_encode_as_utf8(data):
    for r in validate_batch(data, require_records=False).records:
        json.dumps(r.model_input, ensure_ascii=False).encode("utf-8")
        (r.record_id or "").encode("utf-8")


# --- end to end against the sandbox ------------------------------------------------------------------
def audit_of(tmp_path) -> list[dict]:
    path = tmp_path / "state" / "tierconsole" / "audit.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def uploaded(sandbox, containing: str) -> list[str]:
    """Keys in the sandbox's bucket holding ``containing`` (moto's S3 is shared by the test's sandboxes)."""
    s3 = boto3_client("s3", sandbox.endpoint)
    return [o["Key"] for o in s3.list_objects_v2(Bucket="tierconsole-sandbox").get("Contents", [])
            if containing in o["Key"]]


def test_submit_of_a_file_with_a_lone_surrogate_names_file_and_line_and_uploads_nothing(cli, tmp_path, sandbox):
    lines = jsonl_lines()
    lines[41] = lines[41].replace('"q41"', '"q41 \\udc80"')
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n")
    out = cli("batch", "submit", str(f), "--model", NOVA, "--name", "sur-1")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"{f}:42: modelInput.messages[0].content[0].text holds a lone surrogate" in out.stderr, out.stderr
    assert uploaded(sandbox, "sur-1") == [] and json.loads(cli("batch", "list", "--json").stdout) == []


def test_the_sandbox_fails_such_a_job_with_the_line_not_an_internal_error(sandbox):
    lines = jsonl_lines()
    lines[6] = lines[6].replace('"q6"', '"\\ud83d"')
    s3 = boto3_client("s3", sandbox.endpoint)
    s3.put_object(Bucket="tierconsole-sandbox", Key="direct/in.jsonl", Body="\n".join(lines).encode())
    bedrock = boto3_client("bedrock", sandbox.endpoint)
    arn = bedrock.create_model_invocation_job(
        jobName="direct-1", roleArn="arn:aws:iam::123456789012:role/r", modelId=NOVA,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/direct/in.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/out/"}})["jobArn"]
    deadline = time.monotonic() + 30
    while (job := bedrock.get_model_invocation_job(jobIdentifier=arn))["status"] not in ("Failed", "Completed"):
        assert time.monotonic() < deadline, job["status"]
        time.sleep(0.2)
    assert job["status"] == "Failed" and "line 7" in job["message"] and "surrogate" in job["message"], job
    assert "Internal error" not in job["message"]


def test_prompt_with_bytes_that_are_not_utf8_is_a_usage_error_and_sends_nothing(sandbox, env, tmp_path):
    argv = [*[a.encode() for a in CLI], b"prompt", b"hi \xff", b"--model", NOVA.encode(),
            b"--endpoint-url", sandbox.endpoint.encode()]
    out = subprocess.run(argv, capture_output=True, timeout=90, env=env, cwd=tmp_path)
    err = out.stderr.decode("utf-8", "replace")
    assert out.returncode == 2 and "Traceback" not in err, err
    assert "argument text:" in err and "not UTF-8" in err and "0xff" in err
    assert not sandbox.sandbox.outcomes.recent  # nothing reached the sandbox
    assert audit_of(tmp_path) == []


# --- the class: every text argument of every command --------------------------------------------------
def _text_options() -> list[tuple[tuple[str, ...], str, list[tuple[str, list[str]]]]]:
    """(command path, option, the arguments the command needs as (dest, tokens)) for every option
    taking a value that is not a file path, found by walking the real parser."""
    import argparse

    from tierconsole.cli.options import dest_name

    out = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        needed = []
        for action in parser._actions:
            if action.required and action.option_strings:
                needed.append((dest_name(action.dest), [action.option_strings[0], "x"]))
            elif not action.option_strings and not isinstance(action, argparse._SubParsersAction):
                needed.append((dest_name(action.dest), ["x"]))
        for action in parser._actions:
            name = dest_name(action.dest)
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(sub, (*path, sub_name))
            elif action.nargs == 0 or action.choices or name == "help" or name in PATH_ARGUMENTS:
                continue  # flags, fixed choices, and file paths (any bytes the file system allows)
            else:
                out.append((path, action.option_strings[0] if action.option_strings else name, needed))
    walk(build_parser(), ())
    return out


TEXT_OPTIONS = _text_options()


def test_the_parser_has_text_options_to_check():
    names = {(p, o) for p, o, _ in TEXT_OPTIONS}
    assert {(("prompt",), "text"), (("prompt",), "--system"), (("prompt",), "--model"),
            (("batch", "submit"), "--name"), (("batch", "cancel"), "job"), ((), "--profile"),
            (("status",), "--endpoint-url"), (("sandbox",), "--faults")} <= names


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TEXT_OPTIONS), st.binary(min_size=1, max_size=6).filter(lambda b: b"\x00" not in b),
       st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=4))
def test_every_argument_with_bytes_that_are_not_utf8_is_refused_naming_it(option, raw, prefix):
    """The class: whatever option of whatever command gets bytes that are not UTF-8, either the parser
    refuses the value (a usage error naming the option) or the check after parsing names it; a
    value that is UTF-8 is never taken for one that is not."""
    path, name, needed = option
    value = "a" + prefix + raw.decode("utf-8", "surrogateescape")  # what Python makes of such argv bytes
    argv = [*path]
    for dest, tokens in needed:
        argv += [value] if dest == name else tokens
    if name.startswith("-"):
        argv += [name, value]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # the option's own type refused it (or the value made the line unparsable)
        assert e.code == 2
        return
    found = undecodable_argument(args)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert found is not None and found[0] == name, (argv, found)
    else:
        assert found is None


# --- a retried submit without --name is one job -----------------------------------------------------
def test_the_default_name_comes_from_the_content_and_model_not_the_clock(tmp_path):
    data = "\n".join(jsonl_lines()).encode()
    a = job_name_for("/x/nightly records.jsonl", data, NOVA)
    time.sleep(1.1)
    assert job_name_for("/x/nightly records.jsonl", data, NOVA) == a
    assert a.startswith("nightly-records-") and len(a) <= 63
    assert job_name_for("/x/nightly records.jsonl", data + b"\n" + data[:10], NOVA) != a
    assert job_name_for("/x/nightly records.jsonl", data, SONNET) != a
    assert job_name_for("/elsewhere/nightly records.jsonl", data, NOVA) == a  # the folder does not matter


def test_submitting_the_same_file_twice_without_a_name_makes_one_job(cli, tmp_path):
    f = tmp_path / "retry.jsonl"
    f.write_text("\n".join(jsonl_lines()) + "\n")
    first = cli("batch", "submit", str(f), "--model", NOVA, "--json")
    assert first.returncode == 0, first.stderr
    time.sleep(1.1)  # a name from the clock would differ by now
    second = cli("batch", "submit", str(f), "--model", NOVA, "--json")
    assert second.returncode == 0, second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["jobArn"] == b["jobArn"] and a["jobName"] == b["jobName"]
    assert len(json.loads(cli("batch", "list", "--json").stdout)) == 1


@pytest.mark.parametrize("name, last", [(b"caf\xe9 \xff.jsonl", "caf-.jsonl"),
                                        (b"nightly records (v2).jsonl", "nightly-records-(v2).jsonl")])
def test_a_file_name_with_spaces_or_bytes_that_are_not_utf8_uploads_under_a_key_bedrock_accepts(
        sandbox, env, tmp_path, name, last):
    path = os.path.join(os.fsencode(tmp_path), name)
    with open(path, "wb") as f:
        f.write(("\n".join(jsonl_lines()) + "\n").encode())
    argv = [*[a.encode() for a in CLI], b"batch", b"submit", path, b"--model", NOVA.encode(), b"--json",
            b"--endpoint-url", sandbox.endpoint.encode()]
    out = subprocess.run(argv, capture_output=True, timeout=90, env=env, cwd=tmp_path)
    assert out.returncode == 0 and b"Traceback" not in out.stderr, out.stderr
    [job] = json.loads(out.stdout.decode())["inputDataConfig"]["s3InputDataConfig"]["s3Uri"].split("/input/")[1:]
    [key] = uploaded(sandbox, job)
    assert key.endswith("/" + last), key  # the s3Uri pattern allows [-!_*'().a-zA-Z0-9] only


# --- every failure of a submit is audited -------------------------------------------------------------
def test_a_failed_upload_is_audited_and_creates_nothing(cli, tmp_path, sandbox):
    from tierconsole.sandbox.faults import parse_faults

    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(jsonl_lines()) + "\n")
    sandbox.sandbox.faults.rules = parse_faults("503:s3/tierconsole-sandbox/input")
    out = cli("batch", "submit", str(f), "--model", NOVA, "--name", "up-1")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    sandbox.sandbox.faults.rules = []
    assert json.loads(cli("batch", "list", "--json").stdout) == []
    [entry] = [a for a in audit_of(tmp_path) if a["action"] == "batch-submit"]
    assert entry["target"] == "up-1" and entry["outcome"].startswith("failed: upload: ")
    assert "ServiceUnavailable" in entry["outcome"] or "SlowDown" in entry["outcome"], entry
    assert entry["detail"]["model"] == NOVA and entry["detail"]["file"] == str(f)


def test_a_bad_local_file_is_not_an_account_action_and_not_audited(cli, tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text("{not json\n")
    assert cli("batch", "submit", str(f), "--model", NOVA, "--name", "bad-1").returncode == 1
    assert cli("batch", "submit", str(tmp_path / "missing.jsonl"), "--model", NOVA, "--name", "gone-1").returncode == 1
    assert [a for a in audit_of(tmp_path) if a["action"] == "batch-submit"] == []


def test_a_failed_create_is_still_audited_once(cli, tmp_path, sandbox):
    from tierconsole.sandbox.faults import parse_faults

    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(jsonl_lines()) + "\n")
    sandbox.sandbox.faults.rules = parse_faults("denied:bedrock/model-invocation-job")
    out = cli("batch", "submit", str(f), "--model", NOVA, "--name", "cr-1")
    assert out.returncode == 1 and "AccessDenied" in out.stderr
    entries = [a for a in audit_of(tmp_path) if a["action"] == "batch-submit"]
    assert len(entries) == 1 and entries[0]["outcome"].startswith("failed: create: ") and \
        "AccessDenied" in entries[0]["outcome"]
