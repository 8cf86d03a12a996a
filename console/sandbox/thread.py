"""A sandbox on its own event loop in a daemon thread (the console's in-process sandbox, and tests')."""
from __future__ import annotations

import asyncio
import threading
from typing import Generic, Protocol, TypeVar


class Servable(Protocol):
    """What the thread runs: a :class:`~.app.Sandbox` (named structurally, so app.py can import this module)."""

    @property
    def endpoint(self) -> str: ...

    async def start(self, host: str, port: int) -> object: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Servable)


class SandboxThread(Generic[S]):
    """A sandbox on its own event loop in a daemon thread: for the console and for tests.

    The console's UI loop stays free of sandbox work; clients reach it over loopback like any endpoint.
    """

    def __init__(self, sandbox: S, host: str = "127.0.0.1", port: int = 0):
        self.sandbox = sandbox
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    def start(self, timeout: float = 30.0) -> str:
        self._thread = threading.Thread(target=self._run, name="tierconsole-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("sandbox did not start")
        if self._error is not None:
            raise self._error
        return self.sandbox.endpoint

    @property
    def endpoint(self) -> str:
        return self.sandbox.endpoint

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            # As asyncio.run does: nothing is left pending when the loop closes ("Task was destroyed").
            left = asyncio.all_tasks(self._loop)
            for task in left:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self.sandbox.start(self._host, self._port)
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.sandbox.stop()

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the sandbox's loop and wait for it (coroutines are awaited)."""
        async def runner():
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result
        return asyncio.run_coroutine_threadsafe(runner(), self._loop).result(30)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
