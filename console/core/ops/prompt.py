"""Send test prompts at any tier, at all tiers side by side, or escalating Standard → Priority.

:func:`send_prompt` sends one request with a bedrock-runtime client; :func:`run_prompt` is the
operator's whole flow (account → guard → history → send → audit) over an
:class:`~tierconsole.core.session.OperatorSession`, written once for the CLI and the prompt lab."""
from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from ..domain.format import tier_label
from ..domain.pricing import PriceTable

if TYPE_CHECKING:  # pragma: no cover
    from ..domain.profile import Timeouts
    from ..session import OperatorSession

TIER_CHOICES = ("reserved", "priority", "standard", "default", "flex", "all", "escalate")
ALL_TIERS = ("reserved", "priority", "default", "flex")
MAX_PROMPT_CHARS = 1_000_000


@dataclass(frozen=True)
class PromptRequest:
    model_id: str
    text: str
    tier: str = "default"  # a wire tier, "all" or "escalate" ("standard" is accepted for "default")
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    stream: bool = False

    def validate(self) -> None:
        if not self.model_id:
            raise ValueError("model: required")
        if not self.text or not self.text.strip():
            raise ValueError("prompt: empty; type something to send")
        if len(self.text) > MAX_PROMPT_CHARS:
            raise ValueError(f"prompt: {len(self.text):,} characters is over the limit of {MAX_PROMPT_CHARS:,}")
        if self.tier not in TIER_CHOICES:
            raise ValueError(f"tier: {self.tier!r} is not one of {', '.join(TIER_CHOICES)}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max tokens: must be at least 1, got {self.max_tokens}")
        if self.temperature is not None and not 0 <= self.temperature <= 1:
            raise ValueError(f"temperature: must be between 0 and 1, got {self.temperature}")


@dataclass
class PromptResult:
    tier: str  # asked
    served_tier: str | None = None
    ok: bool = False
    error: str | None = None  # AWS error code
    message: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    output_tps: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    text: str = ""
    stop_reason: str | None = None
    escalated_from: str | None = None
    request_id: str | None = None
    note: str | None = None  # why the served tier differs (a Reserved request that overflowed to Standard)
    region: str | None = None  # the region whose endpoint (and quota) served it, as the client was made for
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Wire values as Bedrock says them (``tier: "default"``), each with its label (``"Standard"``);
        times and rates to 0.1."""
        d = asdict(self)
        d.pop("extra")
        for key in ("latency_ms", "ttft_ms", "output_tps"):
            if d[key] is not None:
                d[key] = round(d[key], 1)
        d["tier_label"] = tier_label(self.tier)
        d["served_tier_label"] = tier_label(self.served_tier) if self.served_tier else None
        return d


def _wire(tier: str) -> str:
    return "default" if tier == "standard" else tier


OnText = Callable[[str, str], None]  # (tier, text chunk)
OnResult = Callable[["PromptResult"], None]  # one tier's result, as soon as that tier finishes


class StreamStalled(Exception):
    """A streamed answer sent no event for longer than the profile's ``timeouts.stream_event``."""


async def _events(stream: Any, gap: float | None) -> AsyncIterator[dict[str, Any]]:
    """The events of a streamed answer. The first may take as long as the tier's read timeout (queueing
    comes before it); after it, each must come within ``gap`` seconds of the one before (the stream is
    not timed in total: a long answer whose events keep coming is fine)."""
    events = stream.__aiter__()
    first = True
    try:
        while True:
            try:
                if first or gap is None:
                    event = await events.__anext__()
                else:
                    async with asyncio.timeout(gap):
                        event = await events.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise StreamStalled(gap) from None
            first = False
            yield event
    finally:
        await events.aclose()


async def _one(client: Any, req: PromptRequest, tier: str, prices: PriceTable, on_text: OnText | None,
               timeouts: Timeouts | None = None, price_as: str | None = None) -> PromptResult:
    import aiohttp  # noqa: PLC0415
    import botocore.eventstream as bes  # noqa: PLC0415
    import botocore.exceptions as bx  # noqa: PLC0415

    kwargs: dict[str, Any] = {"modelId": req.model_id, "messages": [{"role": "user", "content": [{"text": req.text}]}],
                    "serviceTier": {"type": tier}}
    if req.system:
        kwargs["system"] = [{"text": req.system}]
    cfg: dict[str, float] = {}
    if req.max_tokens is not None:
        cfg["maxTokens"] = req.max_tokens
    if req.temperature is not None:
        cfg["temperature"] = req.temperature
    if cfg:
        kwargs["inferenceConfig"] = cfg
    result = PromptResult(tier=tier, region=getattr(getattr(client, "meta", None), "region_name", None))
    t0 = time.perf_counter()
    parts: list[str] = []  # streamed text so far
    resp = None
    try:
        if req.stream:
            resp = await client.converse_stream(**kwargs)
            result.request_id = resp["ResponseMetadata"].get("RequestId")
            async for event in _events(resp["stream"], timeouts.stream_event if timeouts else None):
                if "contentBlockDelta" in event:
                    chunk = event["contentBlockDelta"]["delta"].get("text", "")
                    if result.ttft_ms is None:
                        result.ttft_ms = (time.perf_counter() - t0) * 1000
                    parts.append(chunk)
                    if on_text:
                        on_text(tier, chunk)
                elif "messageStop" in event:
                    result.stop_reason = event["messageStop"].get("stopReason")
                elif "metadata" in event:
                    meta = event["metadata"]
                    result.input_tokens = meta["usage"]["inputTokens"]
                    result.output_tokens = meta["usage"]["outputTokens"]
                    result.served_tier = (meta.get("serviceTier") or {}).get("type")
            result.text = "".join(parts)
        else:
            resp = await client.converse(**kwargs)
            result.request_id = resp["ResponseMetadata"].get("RequestId")
            result.text = "".join(b.get("text", "") for b in resp["output"]["message"]["content"])
            result.input_tokens = resp["usage"]["inputTokens"]
            result.output_tokens = resp["usage"]["outputTokens"]
            result.served_tier = (resp.get("serviceTier") or {}).get("type")
            result.stop_reason = resp.get("stopReason")
            if on_text:
                on_text(tier, result.text)
        result.ok = True
    except bx.ClientError as e:  # includes EventStreamError (in-stream throttles)
        err = e.response.get("Error", {})
        code = err.get("Code", "Error")
        result.error = code[0].upper() + code[1:] if code else code  # throttlingException -> ThrottlingException
        result.message = err.get("Message")
    except bes.ParserError as e:  # a frame botocore cannot decode: the answer so far is all there is
        result.error = "CorruptEventStream"
        result.message = f"the endpoint sent a corrupt event-stream frame ({e}); the answer is incomplete"
    except aiohttp.ClientPayloadError:
        result.error = "StreamCut"
        result.message = (f"the connection closed mid-answer, after {sum(map(len, parts)):,} characters; "
                          "the answer is incomplete")
    except StreamStalled as e:
        result.error = "StreamStalled"
        result.message = (f"no event for {e.args[0]:g} s after {sum(map(len, parts)):,} characters "
                          "(the profile's timeouts.stream_event); the answer is incomplete")
    except bx.ReadTimeoutError as e:
        result.error = type(e).__name__
        waited = f" within {timeouts.for_prompt(tier):g} s (the profile's timeouts.prompt.{tier})" if timeouts else ""
        result.message = f"no answer{waited}: {e}"
    except (bx.BotoCoreError, OSError, asyncio.TimeoutError, aiohttp.ClientError) as e:
        result.error = type(e).__name__
        result.message = str(e)
    finally:
        if req.stream and resp is not None and not result.ok:
            resp["stream"].close()  # a stream given up on: its connection is closed, not left half-read
    if not result.ok and parts:
        result.text = "".join(parts)  # what arrived before the failure, shown as such
    result.latency_ms = (time.perf_counter() - t0) * 1000
    if result.ok:
        gen_ms = result.latency_ms - (result.ttft_ms or 0.0)
        result.output_tps = result.output_tokens / (gen_ms / 1000) if gen_ms > 0 and result.output_tokens else None
        result.cost_usd = prices.cost(price_as or req.model_id, result.served_tier, result.input_tokens,
                                      result.output_tokens)
    return result


async def send_prompt(client: Any, req: PromptRequest, prices: PriceTable, *, on_text: OnText | None = None,
                      on_result: OnResult | None = None, timeouts: Timeouts | None = None,
                      price_as: str | None = None) -> list[PromptResult]:
    """Send ``req`` with a bedrock-runtime client; one result per tier tried.

    ``timeouts`` (the profile's :class:`~tierconsole.core.domain.profile.Timeouts`) times a streamed answer
    between events and names the tier's read timeout when an answer does not come; the read timeout
    itself is set per request by :class:`~tierconsole.core.aws.session.AwsContext`.
    ``all`` sends every tier concurrently; ``escalate`` sends Standard and, on a throttle, Priority.
    ``on_result`` is called with each tier's result as soon as that tier finishes (a UI shows a fast
    tier while a slow one is still queued); the returned list holds the same objects.
    """
    req.validate()
    tier = _wire(req.tier)

    async def one(t: str, escalated_from: str | None = None) -> PromptResult:
        result = await _one(client, req, t, prices, on_text, timeouts, price_as)
        result.escalated_from = escalated_from
        if on_result:
            on_result(result)
        return result

    if tier == "all":
        return list(await asyncio.gather(*(one(t) for t in ALL_TIERS)))
    if tier == "escalate":
        first = await one("default")
        if first.ok or first.error != "ThrottlingException":
            return [first]
        return [first, await one("priority", escalated_from="default")]
    return [await one(tier)]


#: One tier's result as the operator's flow sees it: the result, and whether it was a capacity error of the
#: console's own call now shown in the throttle pane (``OperatorSession.note_console_error``).
OnTierDone = Callable[["PromptResult", bool], None]


def history_entry(session: OperatorSession, req: PromptRequest) -> dict[str, Any]:
    """What the prompt history keeps of a prompt: everything the prompt lab recalls (the text too; the
    history is the operator's own, 0600, unlike the audit log, which keeps length and hash only)."""
    from ..session import stamp  # noqa: PLC0415

    return {"time": stamp(), "profile": session.profile.name, "model": req.model_id, "tier": req.tier,
            "system": req.system, "text": req.text, "max_tokens": req.max_tokens,
            "temperature": req.temperature, "stream": req.stream}


async def run_prompt(session: OperatorSession, req: PromptRequest, *, via: str,
                     on_text: OnText | None = None, on_result: OnTierDone | None = None,
                     on_sending: Callable[[dict[str, Any]], None] | None = None) -> list[PromptResult]:
    """The prompt use case, for the CLI (``via="cli"``) and the prompt lab (``via="console"``):
    the account looked up for the audit, refused in read-only mode unless the profile allows prompts
    (:class:`~.guard.ReadOnlyError`, audited), the request added to the prompt history (``on_sending`` is told
    the entry just before the request goes out), sent at its tier(s), and audited with its outcome (the
    text as length and hash only): ``ok``, ``failed: <AWS error code>`` (no tier answered), ``cancelled`` (the caller was cancelled) or
    ``failed: <error>`` (the flow raised). A capacity error of the console's own call goes to the
    throttle pane (``on_result`` is told whether it did)."""
    from ..domain.reserved_overflow import overflow_note  # noqa: PLC0415
    from .guard import append_history  # noqa: PLC0415

    req.validate()
    await session.lookup_account()  # every audit line names the account, a refusal's too (or says why not)
    await asyncio.to_thread(session.guard.require_prompt, req.model_id)
    results: list[PromptResult] = []  # every tier that has answered so far (for the audit, even if cancelled)

    def tier_done(result: PromptResult) -> None:
        results.append(result)
        result.note = overflow_note(result.tier, result.served_tier, req.model_id, session.profile.reservations,
                                    req.max_tokens)
        noted = session.note_console_error(req.model_id, result.tier, result.error, result.message)
        if on_result is not None:
            on_result(result, noted)

    try:  # from here on every outcome is audited: a client that cannot be made (no AWS profile) too
        ctx = await session.context()
        await session.ensure_account()
        client = await ctx.client("bedrock-runtime")
        entry = history_entry(session, req)
        await asyncio.to_thread(append_history, session.history_path, entry)
        if on_sending is not None:
            on_sending(entry)
        # an application profile is priced as the model it copies (GetInferenceProfile tells which)
        from .batch import names_application_profile  # noqa: PLC0415
        price_as = None
        if names_application_profile(req.model_id):
            from .batch import profile_model  # noqa: PLC0415

            price_as = await profile_model(await ctx.client("bedrock"), req.model_id)
        results[:] = await send_prompt(client, req, session.prices, on_text=on_text, on_result=tier_done,
                                       timeouts=session.profile.timeouts, price_as=price_as)
    except asyncio.CancelledError:
        _audit(session, req, via, "cancelled", results)
        raise
    except Exception as e:
        _audit(session, req, via, f"failed: {type(e).__name__}", results)
        raise
    _audit(session, req, via, _outcome(results), results)
    return results


def _outcome(results: list[PromptResult]) -> str:
    """``ok`` when a tier answered, else ``failed: <the first tier's AWS error code>``."""
    if any(r.ok for r in results):
        return "ok"
    codes = [r.error for r in results if r.error]
    return f"failed: {codes[0]}" if codes else "failed"


def _audit(session: OperatorSession, req: PromptRequest, via: str, outcome: str, results: list[PromptResult]) -> None:
    from .guard import text_fingerprint  # noqa: PLC0415

    session.guard.audit("prompt", req.model_id, outcome, via=via, tier=req.tier,
                        tiers=[r.tier for r in results], served=[r.served_tier for r in results],
                        errors=[r.error for r in results if r.error], prompt=text_fingerprint(req.text))
