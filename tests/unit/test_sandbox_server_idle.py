"""The sandbox server's idle connections (console/sandbox/server.py ``_IdleTimer``, issue 14): a keep-alive
connection serves request after request, closes after ``keep_alive_timeout`` without one (never during one),
and closes at once when the server stops. Real hypercorn on loopback, a raw HTTP/1.1 client."""
from __future__ import annotations

import asyncio
import time

from tierconsole.sandbox.server import Server


async def _app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["path"] == "/slow":
        await asyncio.sleep(0.6)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _get(reader, writer, path: str = "/") -> bytes:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return head + await asyncio.wait_for(reader.readexactly(2), 5)


async def _closed(reader, within: float) -> float | None:
    """Seconds until the server closed the connection, or None if it did not within ``within``."""
    started = time.monotonic()
    try:
        data = await asyncio.wait_for(reader.read(1), within)
    except asyncio.TimeoutError:
        return None
    assert data == b""
    return time.monotonic() - started


def test_a_keep_alive_connection_serves_requests_and_closes_when_idle():
    async def main():
        server = Server(_app)
        server.config.keep_alive_timeout = 0.4
        host, port = await server.start("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection(host, port)
            for _ in range(50):  # one connection, request after request: the timer is stopped and set again
                assert (await _get(reader, writer)).startswith(b"HTTP/1.1 200")
            assert (await _get(reader, writer, "/slow")).endswith(b"ok")  # longer than the timeout: not idle
            waited = await _closed(reader, 5)
            assert waited is not None and 0.3 < waited < 2.0
            writer.close()
        finally:
            await server.stop(5)

    asyncio.run(main())


def test_stopping_closes_idle_connections_at_once():
    async def main():
        server = Server(_app)  # keep_alive_timeout 75 s: only the stop can close it soon
        host, port = await server.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(host, port)
        assert (await _get(reader, writer)).endswith(b"ok")
        fresh_reader, fresh_writer = await asyncio.open_connection(host, port)  # connected, never asked anything
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await server.stop(grace=5)
        assert time.monotonic() - started < 2.0  # not the 5 s grace: the idle connections were closed
        assert await _closed(reader, 2) is not None and await _closed(fresh_reader, 2) is not None
        writer.close()
        fresh_writer.close()

    asyncio.run(main())
