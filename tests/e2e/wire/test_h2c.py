"""HTTP/2 over cleartext on the sandbox's one http:// port, beside HTTP/1.1, spoken with python-hyper's h2.

Prior knowledge (what the AWS SDK for JavaScript v3 does on an http:// endpoint), the HTTP/1.1 Upgrade,
and a client GOAWAY in the middle of an event stream (the JavaScript SDK closes its session as soon as a
response's headers arrive): the stream must still run to its end."""
from __future__ import annotations

import json
import socket

import h2.config
import h2.connection
import h2.events
import pytest
from hyperframe.frame import GoAwayFrame

NOVA = "amazon.nova-lite-v1:0"
AUTH = ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host, "
        "Signature=0")


@pytest.fixture(scope="module")
def sandbox(module_sandbox):
    return module_sandbox


def _connect(sandbox) -> socket.socket:
    return socket.create_connection((sandbox.host, sandbox.port), timeout=10)


def _request_headers(sandbox, method: str, path: str, body: bytes = b"") -> list[tuple[str, str]]:
    headers = [(":method", method), (":path", path), (":scheme", "http"),
               (":authority", f"{sandbox.host}:{sandbox.port}"), ("authorization", AUTH)]
    if body:
        headers += [("content-type", "application/json"), ("content-length", str(len(body)))]
    return headers


def _read_response(sock: socket.socket, conn: h2.connection.H2Connection, stream_id: int, *,
                   on_headers=None) -> tuple[dict, bytes]:
    headers: dict = {}
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before stream {stream_id} ended ({len(data)} bytes in)")
        for event in conn.receive_data(chunk):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                headers = {k.decode(): v.decode() for k, v in event.headers}
                if on_headers:
                    on_headers()
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                data += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                raise AssertionError(f"stream {stream_id} reset ({event.error_code})")
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                sock.sendall(conn.data_to_send())
                return headers, data
        sock.sendall(conn.data_to_send())


def _converse_body(text: str, tier: str) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": [{"text": text}]}],
                       "inferenceConfig": {"maxTokens": 48}, "serviceTier": {"type": tier}}).encode()


def test_prior_knowledge_converse(sandbox):
    with _connect(sandbox) as sock:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        body = _converse_body("over h2c", "priority")
        conn.send_headers(1, _request_headers(sandbox, "POST", f"/model/{NOVA.replace(':', '%3A')}/converse", body))
        conn.send_data(1, body, end_stream=True)
        sock.sendall(conn.data_to_send())
        headers, data = _read_response(sock, conn, 1)
    assert headers[":status"] == "200", (headers, data[:300])
    answer = json.loads(data)
    assert answer["serviceTier"] == {"type": "priority"}
    assert answer["output"]["message"]["content"][0]["text"].startswith("SANDBOX")


def test_upgrade_from_http11(sandbox):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = conn.initiate_upgrade_connection()
    with _connect(sandbox) as sock:
        sock.sendall((f"GET /foundation-models HTTP/1.1\r\nHost: {sandbox.host}:{sandbox.port}\r\n"
                      f"Authorization: {AUTH}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                      f"HTTP2-Settings: {settings.decode()}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        sock.sendall(conn.data_to_send())
        headers, data = _read_response(sock, conn, 1)
    assert headers[":status"] == "200", (headers, data[:300])
    assert {m["modelId"] for m in json.loads(data)["modelSummaries"]} >= {NOVA}


def test_client_goaway_after_the_headers_does_not_cut_an_event_stream(sandbox):
    from botocore.eventstream import EventStreamBuffer

    with _connect(sandbox) as sock:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        body = _converse_body("stream then goaway", "flex")
        conn.send_headers(1, _request_headers(sandbox, "POST", f"/model/{NOVA.replace(':', '%3A')}/converse-stream",
                                              body))
        conn.send_data(1, body, end_stream=True)
        sock.sendall(conn.data_to_send())
        # As Node's http2 session.close(): GOAWAY(NO_ERROR), and the client keeps reading the open stream.
        goaway = GoAwayFrame(0, last_stream_id=0, error_code=0).serialize()
        headers, data = _read_response(sock, conn, 1, on_headers=lambda: sock.sendall(goaway))
    assert headers[":status"] == "200", (headers, data[:300])
    buf = EventStreamBuffer()
    buf.add_data(data)
    kinds = [m.headers[":event-type"] for m in buf]
    assert kinds[0] == "messageStart" and kinds[-1] == "metadata" and "contentBlockDelta" in kinds, kinds
