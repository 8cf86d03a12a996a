"""Validation of a batch inference JSONL input file: bytes in, a report out, no I/O.

Shared by the sandbox (a job's Validating phase) and the console (a local check before upload).
What it checks, as Bedrock's validation does:

- every non-empty line is a UTF-8 JSON object;
- ``recordId``, when present, is a non-empty string unique within the file. It may be omitted:
  "If you omit the recordId field, Amazon Bedrock adds it in the output" (batch-inference-data);
- ``modelInput`` is present and is a JSON object;
- the number of records is within the model's per-job minimum and maximum, when given.

Bedrock's own validation does not check ``modelInput`` against the model's request body; pass
``check_input`` to do that locally (it returns an error message or ``None``, or raises).
Blank lines are ignored but still counted, so line numbers match an editor's. Errors are
``(line, message)`` with line 0 for the file as a whole; collection stops after ``max_errors``.
:func:`validate_batch` never raises, whatever the bytes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

MAX_ERRORS = 50
MAX_LINE_BYTES = 10 * 1024 * 1024  # a generous per-record ceiling; Bedrock caps files, not lines (unconfirmed)

InputCheck = Callable[[dict[str, Any]], "str | None"]


@dataclass(frozen=True)
class BatchRecord:
    line: int  # 1-based line number in the file
    record_id: str | None  # None when the line has no recordId (Bedrock assigns one)
    model_input: dict[str, Any]


@dataclass
class BatchFileReport:
    records: list[BatchRecord] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    record_count: int = 0  # non-empty lines, valid or not (counted even after errors stop being collected)
    truncated: bool = False  # more errors existed than were collected

    @property
    def ok(self) -> bool:
        return not self.errors

    def first_error(self) -> str | None:
        """The first error as ``"line 7: ..."`` (or the file-level message), for a job's failure message."""
        if not self.errors:
            return None
        return format_error(*self.errors[0])

    def summary(self, limit: int = 5) -> str:
        shown = [format_error(line, msg) for line, msg in self.errors[:limit]]
        more = len(self.errors) - len(shown)
        if self.truncated:
            shown.append(f"... and more (stopped after {len(self.errors)} errors)")
        elif more > 0:
            shown.append(f"... and {more} more")
        return "; ".join(shown)


def format_error(line: int, message: str) -> str:
    return f"line {line}: {message}" if line else message


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _describe_json_error(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg} at column {exc.colno}"


def _check_line(raw: bytes, lineno: int, seen_ids: dict[str, int], check_input: InputCheck | None,
                max_line_bytes: int) -> tuple[BatchRecord | None, str | None]:
    if len(raw) > max_line_bytes:
        return None, f"line is {len(raw):,} bytes; the limit is {max_line_bytes:,} bytes per record"
    if b"\x00" in raw:
        return None, "contains NUL bytes: this looks like a binary file, not JSONL text"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line)"
    if lineno == 1 and text.startswith("\ufeff"):
        return None, "starts with a UTF-8 byte-order mark; save the file as UTF-8 without BOM"
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return None, _describe_json_error(exc)
    except RecursionError:
        return None, "not valid JSON: nested too deeply"
    except ValueError as exc:  # NaN / Infinity
        return None, f"not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"must be a JSON object like {{\"recordId\": ..., \"modelInput\": {{...}}}}, got {_kind(value)}"
    if _MAYBE_SURROGATE.search(text):  # cheap: only lines with a \uD800-\uDFFF escape are walked
        where = _surrogate_in(value)
        if where is not None:
            return None, (f"{where}: not valid Unicode text, Bedrock cannot read it "
                          "(a pair like \\ud83d\\ude00 is fine)")
    record_id = value.get("recordId")
    if "recordId" in value:
        if not isinstance(record_id, str):
            return None, f"recordId must be a string, got {_kind(record_id)}"
        if not record_id:
            return None, "recordId must not be empty (omit it to let Bedrock assign one)"
        if record_id in seen_ids:
            return None, f"recordId {_clip(record_id)!r} is already used on line {seen_ids[record_id]}"
        seen_ids[record_id] = lineno
    if "modelInput" not in value:
        return None, "modelInput is required"
    model_input = value["modelInput"]
    if not isinstance(model_input, dict):
        return None, f"modelInput must be a JSON object, got {_kind(model_input)}"
    if check_input is not None:
        try:
            problem = check_input(model_input)
        except RecursionError:
            problem = "nested too deeply"
        except Exception as exc:  # noqa: BLE001 - any checker failure is this line's error
            problem = str(exc) or type(exc).__name__
        if problem:
            return None, f"modelInput: {problem}"
    return BatchRecord(lineno, record_id, model_input), None


_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN = re.compile(r"[A-Za-z0-9_\-]{1,40}")


def _surrogate_in(value: Any) -> str | None:
    """What holds the first lone surrogate (a field path, or a key of one), if any. Iterative: a line
    nested thousands deep is walked without recursion."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            m = _SURROGATE.search(node)
            if m:
                return f"{_tail(where)} holds a lone surrogate (\\u{ord(m.group()):04x})"
        elif isinstance(node, dict):
            for key, child in reversed(list(node.items())):
                m = _SURROGATE.search(key)
                if m:
                    return f"a key of {_tail(where) or 'the record'} holds a lone surrogate (\\u{ord(m.group()):04x})"
                stack.append((child, f"{where}.{_field(key)}" if where else _field(key)))
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(node))))
    return None


def _tail(path: str, limit: int = 100) -> str:
    return path if len(path) <= limit else "..." + path[-limit:]


def _field(key: str) -> str:
    """A key in a field path: as is when it is a short plain name, else quoted and clipped."""
    return key if _PLAIN.fullmatch(key) else _clip(json.dumps(key), 32)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def validate_batch(data: bytes, *, min_records: int | None = None, max_records: int | None = None,
                   check_input: InputCheck | None = None, require_records: bool = True,
                   max_errors: int = MAX_ERRORS, max_line_bytes: int = MAX_LINE_BYTES) -> BatchFileReport:
    """Validate one JSONL file.

    Count limits apply to this file; a job that spans several files passes none here
    and ``require_records=False`` (an empty file among others is fine) and checks its total
    with :func:`check_count`.
    """
    report = BatchFileReport()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        report.errors.append((0, f"expected the file's bytes, got {type(data).__name__}"))
        return report
    data = bytes(data)
    if data[:2] == b"\x1f\x8b":
        report.errors.append((0, "the file is gzip-compressed; batch input must be uncompressed JSONL"))
        return report
    seen_ids: dict[str, int] = {}
    for index, raw in enumerate(data.split(b"\n")):
        lineno = index + 1
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        report.record_count += 1
        if len(report.errors) >= max_errors:
            report.truncated = True
            continue
        record, error = _check_line(raw, lineno, seen_ids, check_input, max_line_bytes)
        if error is not None:
            report.errors.append((lineno, error))
        elif record is not None:
            report.records.append(record)
    count_error = check_count(report.record_count, min_records, max_records, require_records=require_records)
    if count_error:
        report.errors.append((0, count_error))
    return report


def check_count(count: int, min_records: int | None = None, max_records: int | None = None, *,
                require_records: bool = True) -> str | None:
    """A message when ``count`` records are outside the per-job limits, else None."""
    if count == 0:
        return "no records (every line is empty)" if require_records else None
    if min_records is not None and count < min_records:
        return f"{count} record{'s' if count != 1 else ''}; a batch job needs at least {min_records:,}"
    if max_records is not None and count > max_records:
        return f"{count:,} records; a batch job takes at most {max_records:,}"
    return None
