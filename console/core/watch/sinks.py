"""Where alerts go: a command (``--exec``: the alert's JSON on its stdin), a webhook (Slack-compatible JSON),
Amazon SNS (``Publish``; the sandbox serves it through moto).

Each sink has its own :class:`SinkWorker`: a bounded queue (the oldest alert is dropped when it is full, and
counted) and one task delivering with retries and exponential back-off with jitter (tenacity). The watch loop
only ever calls :meth:`SinkWorker.offer`: a slow or dead sink never blocks watching. Every alert carries its
``alert_id``: a receiver de-duplicates on it (an SNS standard topic, or a webhook after an ambiguous timeout,
may deliver twice).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import deque
from typing import Any, Callable

from ..domain.watchconfig import SinkSpec

MAX_QUEUE = 1000
MAX_RETRY_AFTER_S = 300.0
SNS_MAX_MESSAGE = 256 * 1024


class Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Final(Exception):
    """A failure another attempt would not fix (a revoked webhook answering 404, a missing topic)."""


# ------------------------------------------------------------------ deliveries
class ExecDelivery:
    def __init__(self, spec: SinkSpec):
        self.spec = spec

    async def send(self, doc: dict[str, Any]) -> None:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.spec.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise Final(f"cannot run {self.spec.command[0]}: {exc.strerror or exc}") from None
        try:
            _, err = await asyncio.wait_for(proc.communicate(json.dumps(doc).encode() + b"\n"), self.spec.timeout)
        except asyncio.TimeoutError:
            _kill(proc.pid)
            await proc.wait()
            raise Retryable(f"no exit within {self.spec.timeout:g} s (killed)") from None
        except asyncio.CancelledError:  # the watch stops: the command does not outlive it
            _kill(proc.pid)
            raise
        if proc.returncode != 0:
            tail = err[-300:].decode("utf-8", "replace").strip()
            raise Retryable(f"exit {proc.returncode}" + (f": {tail}" if tail else ""))


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def slack_payload(doc: dict[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook JSON (``text`` and ``blocks``); Mattermost and Teams' Slack mode read it too."""
    event = doc["event"]
    icon = ":white_check_mark:" if doc["type"] == "resolved" else ":rotating_light:"
    word = "RESOLVED " if doc["type"] == "resolved" else ""
    text = f"{icon} {word}[{doc['severity']}] {doc['rule']}: {event['summary']}"
    where = " · ".join(str(x) for x in (doc.get("profile"), doc.get("account"), doc.get("region")) if x)
    context = f"{event['kind']} {event['phase']} · {event['episode']} · source {event['source']} · " \
              f"alert {doc['alert_id']}" + (f" · {where}" if where else "")
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                                     {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}]}


class WebhookDelivery:
    def __init__(self, spec: SinkSpec, url: str):
        self.spec, self.url = spec, url
        self._session: Any = None

    async def send(self, doc: dict[str, Any]) -> None:
        import aiohttp  # noqa: PLC0415 - heavy; only when a webhook sink exists

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.spec.timeout))
        body = slack_payload(doc) if self.spec.format == "slack" else doc
        try:
            async with self._session.post(self.url, json=body) as resp:
                await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise Retryable(f"{type(exc).__name__}: {exc}") from None
        if 200 <= status < 300:
            return
        if status in (408, 429) or status >= 500:
            after = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise Retryable(f"HTTP {status}", after)
        raise Final(f"HTTP {status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class SnsDelivery:
    def __init__(self, spec: SinkSpec, client: Callable[[str], Any]):
        self.spec, self._client = spec, client  # client(region) -> an aiobotocore sns client

    async def send(self, doc: dict[str, Any]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        arn = self.spec.topic_arn or ""
        event = doc["event"]
        word = "RESOLVED " if doc["type"] == "resolved" else ""
        subject = f"{word}[{doc['severity']}] {doc['rule']}: {event['summary']}"
        subject = "".join(c if 32 <= ord(c) < 127 else "?" for c in subject)[:100]
        message = json.dumps(doc, ensure_ascii=False)
        if len(message.encode()) > SNS_MAX_MESSAGE:
            message = json.dumps({**doc, "event": {**event, "details": {"clipped": True}}})
        params: dict[str, Any] = dict(TopicArn=arn, Subject=subject, Message=message, MessageAttributes={
            k: {"DataType": "String", "StringValue": str(v)} for k, v in
            (("kind", event["kind"]), ("phase", event["phase"]), ("severity", doc["severity"]),
             ("rule", doc["rule"]), ("alert_id", doc["alert_id"]))})
        if arn.endswith(".fifo"):
            params.update(MessageGroupId=event["episode"], MessageDeduplicationId=doc["alert_id"])
        try:
            client = await self._client(arn.split(":")[3])
            await client.publish(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in ("Throttling", "ThrottlingException", "InternalError", "KMSThrottling") or status >= 500:
                raise Retryable(f"{code}: {exc}") from None
            raise Final(f"{code}: {exc}") from None
        except (BotoCoreError, OSError) as exc:
            raise Retryable(f"{type(exc).__name__}: {exc}") from None


# ------------------------------------------------------------------ the worker
class SinkWorker:
    """One sink's queue and delivery task. ``report`` gets one dict per outcome (``sent``, ``failed``,
    ``dropped``) for the event log."""

    def __init__(self, spec: SinkSpec, delivery: Any, report: Callable[[dict[str, Any]], None], *,
                 queue: int = MAX_QUEUE, first_wait: float = 1.0, max_wait: float = 60.0):
        self.spec, self.delivery, self.report = spec, delivery, report
        self.queue: deque[dict[str, Any]] = deque()
        self.limit = queue
        self.first_wait, self.max_wait = first_wait, max_wait
        self.dropped = self.sent = self.failed = 0
        self._ready = asyncio.Event()
        self._busy: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sink-{self.name}")

    def offer(self, doc: dict[str, Any]) -> None:
        """Queue an alert; never waits. A full queue drops its oldest alert (counted and reported)."""
        if len(self.queue) >= self.limit:
            old = self.queue.popleft()
            self.dropped += 1
            self.report({"type": "sink", "sink": self.name, "outcome": "dropped", "alert_id": old.get("alert_id"),
                         "error": f"queue full ({self.limit})"})
        self.queue.append(doc)
        self._ready.set()

    def pending(self) -> list[dict[str, Any]]:
        """Alerts not delivered yet (the one under way first)."""
        return ([self._busy] if self._busy is not None else []) + list(self.queue)

    async def _run(self) -> None:
        while True:
            if not self.queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            doc = self._busy = self.queue.popleft()
            attempts, error = await self._deliver(doc)
            self._busy = None
            outcome = "sent" if error is None else "failed"
            if error is None:
                self.sent += 1
            else:
                self.failed += 1
            self.report({"type": "sink", "sink": self.name, "outcome": outcome, "alert_id": doc.get("alert_id"),
                         "attempts": attempts, **({"error": error} if error else {})})

    async def _deliver(self, doc: dict[str, Any]) -> tuple[int, str | None]:
        from tenacity import (AsyncRetrying, RetryError, retry_if_exception_type,  # noqa: PLC0415
                              stop_after_attempt, wait_exponential_jitter)

        jitter = wait_exponential_jitter(multiplier=self.first_wait, max=self.max_wait, jitter=self.first_wait)

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = getattr(exc, "retry_after", None)
            return min(float(after), MAX_RETRY_AFTER_S) if after else float(jitter(state))

        attempts = 0
        try:
            async for attempt in AsyncRetrying(stop=stop_after_attempt(self.spec.retries + 1), wait=wait,
                                               retry=retry_if_exception_type(Retryable), reraise=False):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    await self.delivery.send(doc)
        except RetryError as exc:
            return attempts, str(exc.last_attempt.exception())
        except Final as exc:
            return attempts, str(exc)
        return attempts, None

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the queue to empty, then stop (what is left stays in :meth:`pending`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self.queue or self._busy is not None) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await self.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        close = getattr(self.delivery, "close", None)
        if close is not None:
            await close()
