"""Bad input everywhere: a clear error that names what is wrong, never a traceback or a 500."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierconsole.core.config.loader import load_yaml
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.profile import parse_profile
from tierconsole.sandbox.config import parse_sandbox_config
from tests.conftest import NOVA, aio_client, boto3_client

AUTH = "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=0"

yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**9), st.floats(allow_nan=False),
                         st.text(max_size=12))
yaml_docs = st.recursive(yaml_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["name", "region", "regions", "models", "reservations", "sandbox", "prices",
                                     "refresh_seconds", "read_only", "alert_threshold", "tpm", "rpm", "id",
                                     "input_tpm", "output_tpm", "model", "engine", "tiers", "bogus"]),
                    inner, max_size=5)), max_leaves=20)


@given(yaml_docs)
@settings(max_examples=300, deadline=None)
def test_any_profile_document_is_a_profile_or_a_config_error(doc):
    import yaml
    text = yaml.safe_dump(doc)
    try:
        loaded = load_yaml("p.yaml", text)
        parse_profile(loaded, default_name="p", source="p.yaml")
    except ConfigError as e:
        assert str(e)
    try:
        parse_sandbox_config(load_yaml("p.yaml", text), "p.yaml")
    except ConfigError as e:
        assert str(e).startswith("p.yaml")


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_yaml_text_is_parsed_or_a_config_error_with_file(text):
    try:
        load_yaml("x.yaml", text)
    except ConfigError as e:
        assert str(e).startswith("x.yaml")


def raw(endpoint: str, path: str, body: bytes, *, method="POST", content_type="application/json", auth=AUTH):
    headers = {"Content-Type": content_type}
    if auth:
        headers["Authorization"] = auth
    req = urllib.request.Request(endpoint + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


CONVERSE = f"/model/{NOVA.replace(':', '%3A')}/converse"


@given(st.binary(max_size=300))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_garbage_bodies_get_aws_shaped_4xx(sandbox, body):
    status, headers, payload = raw(sandbox.endpoint, CONVERSE, body)
    assert status != 500
    if status != 200:
        assert 400 <= status < 500 and headers["x-amzn-ErrorType"] and json.loads(payload)["message"]


@pytest.mark.parametrize("path, body, ctype, code", [
    (CONVERSE, b"{", "application/json", "ValidationException"),
    (CONVERSE, b"[1,2]", "application/json", "ValidationException"),
    (CONVERSE, json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).encode(), "text/plain", None),
    (CONVERSE, json.dumps({"messages": "hi"}).encode(), "application/json", "ValidationException"),
    (CONVERSE, json.dumps({"messages": [{"role": "robot", "content": []}]}).encode(), "application/json", "ValidationException"),
    (CONVERSE, json.dumps({"messages": [{"role": "user", "content": [{"text": 5}]}]}).encode(), "application/json", "ValidationException"),
    (CONVERSE, json.dumps({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"maxTokens": "9"}}).encode(), "application/json", "ValidationException"),
    ("/model/x/explode", b"{}", "application/json", "UnknownOperationException"),
    ("/no/such/path", b"", "application/json", "UnknownOperationException"),
])
def test_fixed_bad_requests(sandbox, path, body, ctype, code):
    status, headers, payload = raw(sandbox.endpoint, path, body, content_type=ctype)
    if code is None:
        assert status == 200  # a wrong content type with a valid JSON body is still understood
        return
    assert 400 <= status < 500 and headers["x-amzn-ErrorType"] == code
    assert json.loads(payload)["message"]


ES = "application/vnd.amazon.eventstream"


def test_event_stream_bodies_are_refused_with_the_bad_frame_named(sandbox):
    from tierconsole.sandbox.eventstream import corrupt, event
    good = event("messageStart", {"role": "user"})
    cases = {
        good + good: "takes a JSON body, not an event stream",  # sound frames, wrong operation
        good + corrupt(good): f"bad event-stream frame 2 at byte {len(good)}: Checksum mismatch",
        good[:5] + b"\xff" + good[6:]: "frame 1 at byte 0: Checksum mismatch",  # the prelude CRC
        good + good[:20]: f"frame 2 at byte {len(good)}: truncated (20 bytes",
    }
    for body, needle in cases.items():
        status, headers, payload = raw(sandbox.endpoint, CONVERSE, body, content_type=ES)
        assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException", payload
        assert needle in json.loads(payload)["message"], payload


@given(st.binary(max_size=400))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_event_stream_body_gets_an_aws_shaped_400(sandbox, body):
    status, headers, payload = raw(sandbox.endpoint, CONVERSE, body, content_type=ES)
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    assert json.loads(payload)["message"].startswith("Malformed input request: ")


def test_no_auth_header_and_unknown_service_are_named(sandbox):
    status, headers, payload = raw(sandbox.endpoint, "/", b"Action=Foo", auth=None, content_type="application/x-www-form-urlencoded")
    assert status == 400 and "unknown" in json.loads(payload)["message"]


def test_oversize_body_is_refused_cleanly(sandbox):
    big = b"{" + b" " * (64 * 1024 * 1024 + 10) + b"}"
    status, headers, payload = raw(sandbox.endpoint, CONVERSE, big)
    # The error Converse's model declares for a bad request (ValidationException, 400), not a bare 413.
    assert (status, headers.get("x-amzn-ErrorType", headers.get("X-Amzn-ErrorType", "")).split(":")[0]) == \
        (400, "ValidationException"), (status, headers)
    assert "limit" in json.loads(payload)["message"]


@pytest.mark.parametrize("text", [
    "\x00\x01\x1b[31mred\x1b[0m\r\n\t", "مرحبا بالعالم שלום", "漢字とかなの混じった文章🙂🙂", "a" * 100_000,
], ids=["control", "rtl", "wide", "100k"])
async def test_odd_prompt_text_round_trips(sandbox, text):
    from tierconsole.core.ops.prompt import PromptRequest, send_prompt
    from tierconsole.core.domain.pricing import PriceTable
    async with aio_client("bedrock-runtime", sandbox.endpoint) as c:
        req = PromptRequest(model_id="anthropic.claude-sonnet-4-5-20250929-v1:0", text=text, tier="priority",
                            max_tokens=16)
        [r] = await send_prompt(c, req, PriceTable.from_profile())
    assert r.ok and r.input_tokens == -(-len(text) // 4)


async def test_a_megabyte_prompt_gets_a_clear_error_not_a_crash(sandbox):
    from tierconsole.core.ops.prompt import PromptRequest, send_prompt
    from tierconsole.core.domain.pricing import PriceTable
    async with aio_client("bedrock-runtime", sandbox.endpoint) as c:
        [r] = await send_prompt(c, PromptRequest(model_id=NOVA, text="a" * 1_000_000, max_tokens=16),
                                PriceTable.from_profile())
    # 250,000 input tokens can never fit Nova Lite's 120,000 TPM quota: throttled at once, with the reason.
    assert not r.ok and r.error == "ThrottlingException" and "tokens" in r.message


def test_empty_and_huge_prompts_are_refused_before_sending():
    from tierconsole.core.ops.prompt import PromptRequest
    for text, needle in (("", "empty"), ("   ", "empty"), ("a" * 1_000_001, "over the limit")):
        with pytest.raises(ValueError, match=needle):
            PromptRequest(model_id=NOVA, text=text).validate()


# ------------------------------------------------------------------ command-line arguments

def _parser_options():
    """(command path, option, action) for every option of every subcommand of the real parser."""
    import argparse
    from tierconsole.cli.main import build_parser

    out = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + (name,))
            elif action.option_strings and action.nargs != 0 and not isinstance(action, argparse._HelpAction):
                out.append((path, action.option_strings[-1], action))
    walk(build_parser(), ())
    return out


OPTIONS = _parser_options()
WORDS = sorted({f for _, f, _ in OPTIONS} | {"sandbox", "prompt", "batch", "submit", "status", "incident", "export",
                                             "plan", "--json", "-h"})
REQUIRED = {("record",): ["out.tcrec"], ("replay",): ["in.tcrec"], ("prompt",): ["--model", NOVA, "text"],
            ("batch", "submit"): ["in.jsonl", "--model", NOVA], ("batch", "show"): ["job"],
            ("batch", "cancel"): ["job"], ("plan",): ["--model", NOVA]}  # so the option under test is what fails
values = st.one_of(st.text(max_size=12), st.sampled_from(["0", "-1", "1e999", "inf", "-inf", "nan", "1.5", "65536",
                                                         "30s", "2h", "0s", "500M", "1K", "15d", "16d", "", " ",
                                                         "9" * 400, "9" * 400 + "M", "1e-400", "0x10"]))


def _parse(argv):
    """(namespace or None, exit code or None, stdout, stderr) of the real parser on ``argv``."""
    import contextlib
    import io
    from tierconsole.cli.main import build_parser

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            return build_parser().parse_args(argv), None, out.getvalue(), err.getvalue()
        except SystemExit as e:
            return None, e.code, out.getvalue(), err.getvalue()


@given(st.sampled_from(OPTIONS), values)
@settings(max_examples=400, deadline=None)
def test_any_option_value_is_parsed_or_named_as_a_usage_error(option, value):
    """Every option either takes the value (a finite number when it is one) or exits 2 naming the option."""
    import math

    path, flag, action = option
    args, code, _, err = _parse([*path, f"{flag}={value}", *REQUIRED.get(path, ())])
    if args is None:
        assert code == 2 and "error:" in err and "Traceback" not in err, err
        assert flag in err or "required" in err, err
        return
    from tierconsole.cli.options import dest_name

    got = getattr(args, dest_name(action.dest))
    if isinstance(got, float):
        assert math.isfinite(got), (flag, value, got)


@given(st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=6))
@settings(max_examples=300, deadline=None)
def test_any_argument_list_parses_or_exits_2_with_a_message(argv):
    args, code, out, err = _parse(argv)
    assert args is not None or (code == 0 and out) or (code == 2 and "error:" in err), (argv, code, err)
