"""AWS event-stream framing (application/vnd.amazon.eventstream), the encoder side.

botocore ships the decoder (``botocore.eventstream``); the sandbox needs to write frames,
and uses botocore's decoder to name what is wrong with frames a client sends it.
Frame: total length (u32) | headers length (u32) | prelude CRC32 | headers | payload | message CRC32.
Header: name length (u8) | name | type (u8, 7 = string) | value length (u16) | value.
"""
from __future__ import annotations

import json
import struct
from zlib import crc32


def _header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return struct.pack("!B", len(n)) + n + struct.pack("!BH", 7, len(v)) + v


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    hdr = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(hdr) + len(payload) + 4
    prelude = struct.pack("!II", total, len(hdr))
    prelude += struct.pack("!I", crc32(prelude))
    message = prelude + hdr + payload
    return message + struct.pack("!I", crc32(message))


def event(event_type: str, payload: dict) -> bytes:
    return frame({":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
                 json.dumps(payload, separators=(",", ":")).encode())


def exception(exception_type: str, message: str) -> bytes:
    """An in-stream modeled exception, e.g. ``throttlingException``."""
    return frame({":exception-type": exception_type, ":content-type": "application/json",
                  ":message-type": "exception"},
                 json.dumps({"message": message}).encode())


def corrupt(message: bytes) -> bytes:
    """The same frame with its message CRC flipped: a decoder must refuse it (fault ``badframe``)."""
    return message[:-4] + bytes(b ^ 0xFF for b in message[-4:])


CONTENT_TYPE = "application/vnd.amazon.eventstream"


def frame_problem(body: bytes) -> str | None:
    """What is wrong with an event-stream ``body`` (which frame, which byte), or None if every frame is sound."""
    from botocore.eventstream import EventStreamBuffer, ParserError  # noqa: PLC0415

    buf = EventStreamBuffer()
    buf.add_data(body)
    offset = n = 0
    try:
        for message in buf:
            n += 1
            offset += message.prelude.total_length
    except ParserError as e:
        return f"frame {n + 1} at byte {offset}: {e}"
    if offset < len(body):
        return f"frame {n + 1} at byte {offset}: truncated ({len(body) - offset} bytes, not a whole frame)"
    return None
