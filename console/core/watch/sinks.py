"""Where alerts go: a command (``--exec``: the alert's JSON on its stdin), a webhook (Slack-compatible JSON),
Amazon SNS (``Publish``; the sandbox serves it through moto).

Each sink has its own :class:`SinkWorker`: a bounded queue (the oldest alert is dropped when it is full, and
counted) and one task delivering with retries and exponential back-off with jitter (tenacity's), each failed
attempt said at once; an alert waiting for its next try holds back only its own episode's later alerts. The
watch loop only ever calls :meth:`SinkWorker.offer`: a slow or dead sink never blocks watching, nor another sink. Every alert carries its
``alert_id``: a receiver de-duplicates on it (an SNS standard topic, or a webhook after an ambiguous timeout,
may deliver twice).
"""
from __future__ import annotations

import asyncio
import bisect
import json
import os
import signal
from dataclasses import dataclass
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
@dataclass
class _Item:
    seq: int  # the order it was offered in
    doc: dict[str, Any]
    attempt: int = 0  # attempts made
    due: float = 0.0  # the event loop's time of its next attempt (back-off)

    @property
    def episode(self) -> Any:
        return (self.doc.get("event") or {}).get("episode") or ("seq", self.seq)


class SinkWorker:
    """One sink's queue and delivery task. ``report`` gets one dict per outcome (``sent``, ``failed``,
    ``dropped``, and ``retrying`` at once after each failed attempt) for the event log.

    One attempt at a time, in the order offered; an alert waiting out its back-off holds back only the later
    alerts of its own episode (a resolution never overtakes its alert): the others are delivered meanwhile."""

    def __init__(self, spec: SinkSpec, delivery: Any, report: Callable[[dict[str, Any]], None], *,
                 queue: int = MAX_QUEUE, first_wait: float = 1.0, max_wait: float = 60.0):
        from tenacity import wait_exponential_jitter  # noqa: PLC0415

        self.spec, self.delivery, self.report = spec, delivery, report
        self.items: list[_Item] = []  # not delivered yet (fresh and waiting to retry), in the order offered
        self.limit = queue
        self._backoff = wait_exponential_jitter(multiplier=first_wait, max=max_wait, jitter=first_wait)
        self.dropped = self.sent = self.failed = 0
        self._seq = 0
        self._wake = asyncio.Event()
        self._busy: _Item | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def max_attempts(self) -> int:
        return self.spec.retries + 1

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sink-{self.name}")

    def offer(self, doc: dict[str, Any]) -> None:
        """Queue an alert; never waits. A full queue drops its oldest alert (counted and reported)."""
        if len(self.items) >= self.limit:
            old = self.items.pop(0)
            self.dropped += 1
            self.report({"type": "sink", "sink": self.name, "outcome": "dropped", "alert_id": old.doc.get("alert_id"),
                         "error": f"queue full ({self.limit})"})
        self._seq += 1
        self.items.append(_Item(self._seq, doc))
        self._wake.set()

    def pending(self) -> list[dict[str, Any]]:
        """Alerts not delivered yet (the one under way among them), in the order offered."""
        under_way = [self._busy] if self._busy is not None else []
        return [i.doc for i in sorted([*under_way, *self.items], key=lambda i: i.seq)]

    def _next(self, now: float) -> _Item | None:
        """The first alert due whose episode has no earlier alert still waiting."""
        held: set[Any] = set()
        for item in self.items:
            if item.episode in held:
                continue
            if item.due <= now:
                return item
            held.add(item.episode)
        return None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = self._next(loop.time())
            if item is None:
                self._wake.clear()
                due = min((i.due for i in self.items), default=None)
                try:
                    await asyncio.wait_for(self._wake.wait(), None if due is None else max(0.0, due - loop.time()))
                except asyncio.TimeoutError:
                    pass
                continue
            self.items.remove(item)
            self._busy = item
            try:
                error = await self._send(item)
            except asyncio.CancelledError:  # the watch stops mid-attempt: the alert is still to deliver
                bisect.insort(self.items, item, key=lambda i: i.seq)
                self._busy = None
                raise
            self._busy = None
            self._attempt(item, error, loop.time())

    async def _send(self, item: _Item) -> Exception | None:
        item.attempt += 1
        try:
            await self.delivery.send(item.doc)
        except (Retryable, Final) as exc:
            return exc
        return None

    def _attempt(self, item: _Item, error: Exception | None, now: float) -> None:
        """Its outcome said: sent, failed (a final error, or the last attempt), or retrying in a back-off."""
        line = {"type": "sink", "sink": self.name, "alert_id": item.doc.get("alert_id")}
        if isinstance(error, Retryable) and item.attempt < self.max_attempts:
            after = error.retry_after
            wait = min(float(after), MAX_RETRY_AFTER_S) if after else float(self._backoff(self._state(item)))
            item.due = now + wait
            bisect.insort(self.items, item, key=lambda i: i.seq)
            self.report({**line, "outcome": "retrying", "attempt": item.attempt, "max_attempts": self.max_attempts,
                         "retry_in_s": round(wait, 2), "error": str(error)})
            return
        if error is None:
            self.sent += 1
        else:
            self.failed += 1
        self.report({**line, "outcome": "sent" if error is None else "failed", "attempts": item.attempt,
                     **({"error": str(error)} if error is not None else {})})

    @staticmethod
    def _state(item: _Item) -> Any:
        from tenacity import RetryCallState  # noqa: PLC0415

        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]  # the wait reads attempt_number only
        state.attempt_number = item.attempt
        return state

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the queue to empty, then stop (what is left stays in :meth:`pending`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self.items or self._busy is not None) and loop.time() < deadline:
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
