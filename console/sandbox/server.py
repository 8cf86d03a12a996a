"""The sandbox's HTTP server: hypercorn, speaking HTTP/1.1 and HTTP/2 over cleartext on one port.

Clients whose default transport is HTTP/2 on an ``http://`` endpoint (the AWS SDK for JavaScript v3's
default runtime client) connect with prior knowledge; others speak HTTP/1.1 (or upgrade with ``Upgrade:
h2c``). The protocol work is hypercorn's (h11 and h2); this module only runs its per-connection server
on sockets it binds itself, so that the sandbox can:

- learn the bound port (``port=0``),
- drop one request's connection on purpose (the ``reset``, ``lost``, ``cut`` and ``down`` faults):
  :meth:`Server.abort` by the client address of the ASGI scope,
- stop promptly: no new connections, requests in flight cancelled (they record their outcomes), and
  connections closed after at most ``grace`` seconds.

One departure from hypercorn's HTTP/2 handling, on purpose: a client's GOAWAY(NO_ERROR) lets the streams
already open run to their end before the connection closes (RFC 9113 §6.8), where hypercorn closes at
once. Node's http2 client sends one as soon as a response's headers arrive when it closes an idle session,
and an event stream (ConverseStream) must not be cut by it.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, Awaitable, Callable

from http import HTTPStatus

import h2.connection
import h2.events
import h11
from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.asyncio.worker_context import WorkerContext
from hypercorn.config import Config
from hypercorn.events import Closed, RawData
from hypercorn.protocol import h2 as hyper_h2
from hypercorn.protocol import h11 as hyper_h11
from hypercorn.protocol.events import StreamClosed

log = logging.getLogger("tierconsole.sandbox.server")

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]
MAX_HEADER_BYTES = 65536  # request line and headers (HTTP/1.1), header list (HTTP/2)
WRITE_HIGH_WATER = 64 * 1024  # bytes queued for a connection before its producer waits for the client


class _GracefulH2(hyper_h2.H2Protocol):
    """hypercorn's HTTP/2 connection, except that a client's GOAWAY(NO_ERROR) finishes the open streams."""

    _peer_goaway = False

    async def _handle_events(self, events: list) -> None:
        kept = []
        for event in events:
            if isinstance(event, h2.events.ConnectionTerminated) and event.error_code == 0 and self.streams:
                self._peer_goaway = True  # no new streams come; the open ones run to their end
                # python-h2 closes its side on any GOAWAY received (it would refuse to send the rest of the
                # open streams): it stays open until they end.
                self.connection.state_machine.state = h2.connection.ConnectionState.SERVER_OPEN
                continue
            kept.append(event)
        await super()._handle_events(kept)

    async def stream_send(self, event) -> None:
        await super().stream_send(event)
        if isinstance(event, StreamClosed) and self._peer_goaway and not self.streams:
            await self.send(Closed())


class _IdleTimer:
    """hypercorn's idle task of a connection (close it after ``keep_alive_timeout`` seconds without a request,
    or at once when the server stops), as a timer of the event loop. hypercorn stops it when a request starts
    and starts it again when the answer is sent: as a task that was two tasks created, cancelled and awaited per
    request (~8% of the sandbox's CPU for a Converse call); a timer is cancelled and set again."""

    def __init__(self, connection: "_CoalescingTCPServer") -> None:
        self._connection = connection
        self._timer: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task | None = None

    @property
    def armed(self) -> bool:
        return self._timer is not None

    async def restart(self, task_group: Any, action: Any) -> None:  # hypercorn's SingleTask interface
        self._cancel()
        connection = self._connection
        loop = asyncio.get_running_loop()
        if connection.context.terminated.is_set():  # the server is stopping: an idle connection closes now
            self._timer = loop.call_soon(self.fire)
        else:
            self._timer = loop.call_later(connection.config.keep_alive_timeout, self.fire)

    async def stop(self) -> None:
        self._cancel()

    def fire(self) -> None:
        """Close the idle connection (as hypercorn's idle task does when it times out)."""
        if self._timer is None or self._closing is not None:
            return
        self._timer = None
        self._closing = asyncio.get_running_loop().create_task(self._connection._initiate_server_close())

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _CoalescingTCPServer(TCPServer):
    """hypercorn's connection, except that what one turn of the event loop produces for it (a response's
    headers and its body) leaves in one write: one system call and one TCP segment instead of two; and that
    its idle timeout is a timer (:class:`_IdleTimer`), not a task."""

    _pending: list[bytes] | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.idle_task = _IdleTimer(self)  # type: ignore[assignment]

    async def protocol_send(self, event) -> None:
        if isinstance(event, RawData):
            if self._pending is None:
                self._pending = [event.data]
                asyncio.get_running_loop().call_soon(self._flush)
            else:
                self._pending.append(event.data)
            transport = self.writer.transport
            if transport is not None and transport.get_write_buffer_size() > WRITE_HIGH_WATER:
                self._flush()
                try:
                    await self.writer.drain()  # a slow reader holds the producer back, as hypercorn does
                except (ConnectionError, RuntimeError):
                    await self.protocol.handle(Closed())
            return
        if isinstance(event, Closed):
            self._flush()
        await super().protocol_send(event)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if not pending:
            return
        try:
            self.writer.write(b"".join(pending))
        except (ConnectionError, RuntimeError):
            asyncio.get_running_loop().create_task(self.protocol.handle(Closed()))


class _ReasonedH11(hyper_h11.H11Protocol):
    """hypercorn's HTTP/1.1 connection, except that the errors it answers itself (a request h11 refuses: a control
    character in a header, ...) carry a reason phrase: botocore, waiting on ``Expect: 100-continue``, takes a
    status line without one for no answer and reports a closed connection."""

    async def _send_error_response(self, status_code: int) -> None:
        await self._send_h11_event(h11.Response(
            status_code=status_code, reason=HTTPStatus(status_code).phrase.encode(),
            headers=[(b"content-length", b"0"), (b"connection", b"close"), *self.config.response_headers("h11")]))
        await self._send_h11_event(h11.EndOfMessage())


def _install_graceful_h2() -> None:
    import hypercorn.protocol as protocol  # noqa: PLC0415 - the names ProtocolWrapper builds connections from

    protocol.H2Protocol = _GracefulH2
    protocol.H11Protocol = _ReasonedH11


class Server:
    """hypercorn on a socket of our own; the ASGI ``app`` answers every request."""

    def __init__(self, app: ASGIApp, *, backlog: int = 1024):
        _install_graceful_h2()
        self.config = Config()
        self.config.backlog = backlog
        self.config.h11_max_incomplete_size = MAX_HEADER_BYTES
        self.config.h2_max_header_list_size = MAX_HEADER_BYTES
        self.config.keep_alive_timeout = 75.0  # SDKs keep connections in a pool (botocore: until idle)
        self.config.accesslog = None
        self.config.errorlog = log  # hypercorn's own errors (a broken client) go to the sandbox's log
        self.config.include_server_header = False
        self.config.include_date_header = True
        self._app = ASGIWrapper(app)
        self._context = WorkerContext(None)
        self._server: asyncio.base_events.Server | None = None
        self._connections: dict[tuple, tuple[asyncio.Task, _CoalescingTCPServer]] = {}
        self.host = "127.0.0.1"
        self.port = 0

    async def start(self, host: str, port: int) -> tuple[str, int]:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(self.config.backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._server = await asyncio.start_server(self._serve, sock=sock, backlog=self.config.backlog)
        self.host, self.port = host, sock.getsockname()[1]
        return self.host, self.port

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        key = tuple(peer[:2]) if peer else ("?", id(writer))
        connection = _CoalescingTCPServer(self._app, asyncio.get_running_loop(), self.config, self._context, {},
                                          reader, writer)
        self._connections[key] = (asyncio.current_task(), connection)
        try:
            await connection
        finally:
            self._connections.pop(key, None)

    def abort(self, client: Any) -> None:
        """Drop the connection of the ASGI scope's ``client`` (host, port) at once, as a reset."""
        entry = self._connections.get(tuple(client or ())[:2])
        if entry is not None:
            connection = entry[1]
            connection._flush()  # what was written before the drop (a stream's first frame) still goes out
            transport = connection.writer.transport
            if transport is not None:
                transport.abort()

    async def stop(self, grace: float = 1.0) -> None:
        """No new connections; open ones get ``grace`` seconds to finish the response under way (requests in
        flight were cancelled by the sandbox before), then they are closed."""
        if self._server is None:
            return
        await self._context.terminated.set()  # HTTP/2 sends GOAWAY; idle keep-alive connections close:
        for _task, connection in list(self._connections.values()):
            if connection.idle_task.armed:
                connection.idle_task.fire()
        self._server.close()
        tasks = [task for task, _ in self._connections.values()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        self._server = None
