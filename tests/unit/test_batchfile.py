"""The batch JSONL validator: exact line numbers, count limits, and no exception for any bytes."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tierconsole.core.domain.batchfile import MAX_ERRORS, check_count, validate_batch
from tierconsole.sandbox import wire


def line(record_id: str | None = "r1", model_input=None, **extra) -> str:
    rec: dict = {} if record_id is None else {"recordId": record_id}
    rec["modelInput"] = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]} if model_input is None else model_input
    rec.update(extra)
    return json.dumps(rec)


def jsonl(*lines: str) -> bytes:
    return "\n".join(lines).encode()


def test_valid_file_gives_records_with_line_numbers():
    data = jsonl(line("a"), "", "   ", line("b"), line(None)) + b"\n"
    report = validate_batch(data)
    assert report.ok, report.errors
    assert [(r.line, r.record_id) for r in report.records] == [(1, "a"), (4, "b"), (5, None)]
    assert report.record_count == 3
    assert report.records[0].model_input["messages"][0]["role"] == "user"


def test_crlf_line_endings_are_fine():
    report = validate_batch(b"\r\n".join([line("a").encode(), line("b").encode()]) + b"\r\n")
    assert report.ok and [r.record_id for r in report.records] == ["a", "b"]


def test_each_error_names_its_line():
    data = jsonl(
        line("a"),                                  # 1 ok
        '{"recordId": "b"}',                        # 2 no modelInput
        '{"recordId": "c", "modelInput": [1]}',     # 3 modelInput not an object
        "[1, 2]",                                   # 4 not an object
        '{"recordId": "d", "modelInput": {',        # 5 bad JSON
        line("a"),                                  # 6 duplicate id
        line(None, recordId=7),                     # 7 recordId not a string
        '{"recordId": "", "modelInput": {}}',       # 8 empty recordId
        '{"recordId": "e", "modelInput": {"x": NaN}}',  # 9 NaN
    )
    report = validate_batch(data)
    errors = dict(report.errors)
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert errors[2] == "modelInput is required"
    assert errors[3] == "modelInput must be a JSON object, got an array"
    assert errors[4].startswith("must be a JSON object")
    assert errors[5].startswith("not valid JSON")
    assert errors[6] == "recordId 'a' is already used on line 1"
    assert errors[7] == "recordId must be a string, got a number"
    assert "must not be empty" in errors[8]
    assert "NaN" in errors[9]
    assert [r.line for r in report.records] == [1]
    assert report.first_error() == "line 2: modelInput is required"
    assert report.summary(limit=2).startswith("line 2: modelInput is required; line 3: ")


def test_binary_and_encoding_problems_have_clear_messages():
    assert "gzip" in validate_batch(b"\x1f\x8b\x08\x00rest").errors[0][1]
    report = validate_batch(jsonl(line("a")) + b"\n\xff\xfe{}\n" + b"ab\x00cd")
    assert report.errors[0] == (2, "not valid UTF-8 (byte 0xff at byte 1 of the line)")
    assert report.errors[1][0] == 3 and "binary" in report.errors[1][1]
    bom = validate_batch("\ufeff".encode() + line("a").encode())
    assert bom.errors[0][0] == 1 and "byte-order mark" in bom.errors[0][1]


def test_long_and_deeply_nested_lines():
    long = validate_batch(jsonl(line("a"), line("b", {"prompt": "x" * 2000})), max_line_bytes=1000)
    assert long.errors[0][0] == 2 and "the limit is 1,000 bytes" in long.errors[0][1]
    deep = validate_batch(b'{"recordId": "a", "modelInput": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert deep.errors and deep.errors[0][0] == 1


def test_count_limits():
    three = jsonl(line("a"), line("b"), line("c"))
    assert validate_batch(three, min_records=3, max_records=3).ok
    too_few = validate_batch(three, min_records=100)
    assert too_few.errors == [(0, "3 records; a batch job needs at least 100")]
    assert too_few.first_error() == "3 records; a batch job needs at least 100"
    too_many = validate_batch(three, max_records=2)
    assert too_many.errors == [(0, "3 records; a batch job takes at most 2")]
    assert validate_batch(b"\n \n").errors == [(0, "no records (every line is empty)")]
    assert validate_batch(b"", require_records=False).ok
    assert check_count(5, 1, 10) is None


def test_error_collection_stops_but_counting_goes_on():
    data = jsonl(*["not json"] * 200)
    report = validate_batch(data)
    assert len(report.errors) == MAX_ERRORS and report.truncated
    assert report.record_count == 200
    assert "stopped after 50 errors" in report.summary()


def test_check_input_validates_the_model_body():
    def nova(body: dict):
        wire.parse_native("nova", body)  # raises AwsError naming the field

    data = jsonl(line("a"), line("b", {"messages": []}), line("c", {"prompt": "x"}))
    report = validate_batch(data, check_input=nova)
    assert [e[0] for e in report.errors] == [2, 3]
    assert report.errors[0][1] == "modelInput: messages: at least one message is required"
    assert validate_batch(jsonl(line("a")), check_input=lambda body: "bad body").errors == [(1, "modelInput: bad body")]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_never_raises_on_arbitrary_bytes(data):
    report = validate_batch(data, min_records=1, max_records=5, max_errors=10)
    assert len(report.errors) <= 11
    assert all(isinstance(n, int) and n >= 0 and isinstance(m, str) and m for n, m in report.errors)
    assert len(report.records) <= report.record_count


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(json_values.map(json.dumps),
                          st.builds(line, st.one_of(st.none(), st.text(max_size=12)),
                                    st.dictionaries(st.text(max_size=5), json_values, max_size=3)),
                          st.text(max_size=30)), max_size=30))
def test_line_numbers_are_exact_for_any_mix_of_lines(lines):
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    report = validate_batch(data, require_records=False, check_input=lambda body: None)
    physical = data.split(b"\n")
    for n, message in report.errors:
        assert 1 <= n <= len(physical) and physical[n - 1].strip(), (n, message)
    for record in report.records:
        assert json.loads(physical[record.line - 1])["modelInput"] == record.model_input
    if not report.truncated:
        assert len(report.records) + len(report.errors) == report.record_count
