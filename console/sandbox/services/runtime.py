"""bedrock-runtime in the sandbox: the tier engine driven by a real clock, and the four operations.

Converse, ConverseStream, InvokeModel and InvokeModelWithResponseStream share one path:
resolve the model identifier to a :class:`~tierconsole.core.domain.routes.Route` (a model id, a
foundation-model ARN, a system or application inference profile id or ARN) → parse → admit through
the :class:`~.engine.TierEngine` (waiting in its queue) → generate deterministic sandbox text paced
by the tier's speed → settle → record an :class:`Outcome` (with the identifier as called and its route).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable
from urllib.parse import unquote


from ...core.domain.tokens import output_length, prompt_digest, sandbox_text_pieces
from .. import eventstream, wire
from ..engine import EngineError, Ticket, TierEngine
from .admission import AsyncEngine, Throttled
from ..http import AwsError, BadJson, Call, Response, StreamResponse, parse_json
from ..outcomes import Outcome
from ..shapes import conform, conform_params, input_shape
from .profiles import ProfileStore

if TYPE_CHECKING:  # pragma: no cover
    from ...core.domain.routes import Route
    from ..clock import SandboxClock
    from ..outcomes import OutcomeLog

MIN_SLEEP_S = 0.001  # below this a real sleep costs more than it models
TOKENS_PER_CHUNK = 8  # stream deltas carry a few tokens each, as real models do


@dataclass
class Generation:
    """A planned answer: its pieces, stop reason and pacing."""

    pieces: list[str]
    stop_reason: str
    ttft_s: float  # sandbox seconds
    tps: float

    @property
    def output_tokens(self) -> int:
        return len(self.pieces)


async def sleep_sandbox(clock: "SandboxClock", sandbox_seconds: float) -> None:
    real = clock.real_delay(sandbox_seconds)
    if real >= MIN_SLEEP_S:
        await asyncio.sleep(real)


class Runtime:
    """The bedrock-runtime operations, bound to one sandbox's engine, clock and outcome log."""

    def __init__(self, engine: TierEngine, clock: "SandboxClock", outcomes: "OutcomeLog", *, seed: int = 0,
                 profiles: ProfileStore | None = None):
        from ..config import DEFAULT_ACCOUNT, DEFAULT_MAX_APPLICATION_PROFILES  # noqa: PLC0415

        self.admission = AsyncEngine(engine, clock)
        # Inference profiles (system and application) and the route of every identifier a call names.
        self.profiles = profiles or ProfileStore(engine.catalog, DEFAULT_ACCOUNT, DEFAULT_MAX_APPLICATION_PROFILES)
        self.engine = engine
        self.clock = clock
        self.outcomes = outcomes
        self.seed = seed
        # Fault hooks (scenarios and --faults): return an AwsError to fail a call before admission.
        self.fault_hooks: list[Callable[[str, str], AwsError | None]] = []
        self.extra_latency_s = 0.0  # sandbox seconds added to every call (outage scenario)

    # ------------------------------------------------------------------ shared path
    def plan(self, prompt: wire.Prompt, ticket: Ticket) -> Generation:
        digest = prompt_digest(prompt.key, self.seed)
        n = output_length(digest, ticket.max_tokens)
        stop = "max_tokens" if n >= ticket.max_tokens else "end_turn"
        ttft, tps = self.engine.generation_timing(ticket)
        return Generation(sandbox_text_pieces(digest, n), stop, ttft + self.extra_latency_s, tps)

    def _fault(self, operation: str, model_id: str) -> None:
        for hook in self.fault_hooks:
            err = hook(operation, model_id)
            if err is not None:
                raise err

    def record(self, call: Call | None, operation: str, model_id: str, asked: str | None, started: float, *,
               ticket: Ticket | None = None, status: int = 200, error: str | None = None,
               message: str | None = None, output_tokens: int = 0, quota_tokens: int = 0,
               ttft_ms: float | None = None, input_tokens: int = 0, source: str = "client",
               tenant: str | None = None, route: "Route | None" = None) -> Outcome:
        now = self.clock.now()
        served = ticket.reported_tier if ticket is not None and ticket.state in ("done", "admitted") else None
        outcome = Outcome(
            time=now, request_id=call.request_id if call else "", operation=operation, model_id=model_id,
            asked_tier=asked, served_tier=served, status=status, error=error, message=message,
            input_tokens=input_tokens, output_tokens=output_tokens, quota_tokens=quota_tokens,
            latency_ms=(now - started) * 1000.0, ttft_ms=ttft_ms,
            queue_ms=(ticket.wait_s * 1000.0) if ticket is not None else 0.0,
            overflowed=bool(ticket and ticket.overflowed), source=source, tenant=tenant,
            identifier=call.identifier if call is not None else None, route=route,
            region=call.region if call is not None else None,
            quota=ticket.blocked_by.name if ticket is not None and ticket.blocked_by is not None else None)
        if call is not None:
            call.served_tier = served
            call.quota = outcome.quota
        self.outcomes.record(outcome)
        return outcome

    async def generate(self, model_id: str, tier: str | None, prompt: wire.Prompt, *, operation: str,
                       call: Call | None = None, source: str = "client", tenant: str | None = None,
                       streaming: bool = False, route: "Route | None" = None) -> tuple[Ticket, Generation, Outcome]:
        """Non-streaming generation through the engine (used by Converse, InvokeModel and background load).

        ``streaming`` (background load only) records the time to first token as a stream would. ``route``
        defaults to the call's (background load without one is a direct, on-demand call on ``model_id``).
        """
        started = self.clock.now()
        input_tokens = prompt.input_tokens
        route = route or (call.route if call is not None else None)
        try:
            self._fault(operation, model_id)
            ticket = await self.admission.acquire(model_id, tier, input_tokens, prompt.max_tokens, route,
                                                  region=call.region if call is not None else None)
        except Throttled as t:
            self.record(call, operation, model_id, tier, started, ticket=t.ticket, status=429,
                        error="ThrottlingException", message=t.ticket.throttle_message,
                        input_tokens=input_tokens, source=source, tenant=tenant, route=route)
            raise AwsError("ThrottlingException", t.ticket.throttle_message, 429) from None
        except (AwsError, EngineError) as e:
            self.record(call, operation, model_id, tier, started, status=e.status, error=e.code,
                        message=e.message, input_tokens=input_tokens, source=source, tenant=tenant, route=route)
            raise
        gen = self.plan(prompt, ticket)
        ttft_ms = (self.clock.now() - started + gen.ttft_s) * 1000.0 if streaming else None
        try:
            await sleep_sandbox(self.clock, gen.ttft_s + gen.output_tokens / gen.tps)
        except asyncio.CancelledError:
            self.admission.abandon(ticket)
            raise
        counted = self.admission.release(ticket, gen.output_tokens)
        outcome = self.record(call, operation, model_id, tier, started, ticket=ticket,
                              output_tokens=gen.output_tokens, quota_tokens=counted, ttft_ms=ttft_ms,
                              input_tokens=input_tokens, source=source, tenant=tenant, route=route)
        return ticket, gen, outcome

    # ------------------------------------------------------------------ HTTP handlers
    async def handle(self, call: Call) -> StreamResponse:
        label, action = runtime_target(call.request.raw_path)
        if label is None:
            raise AwsError("UnknownOperationException",
                           f"bedrock-runtime: no operation at {call.request.method} {call.request.path}", 404)
        op = {"converse": ("Converse", self.converse), "converse-stream": ("ConverseStream", self.converse_stream),
              "invoke": ("InvokeModel", self.invoke), "invoke-with-response-stream":
                  ("InvokeModelWithResponseStream", self.invoke_stream),
              "count-tokens": ("CountTokens", self.count_tokens)}.get(action)
        if op is None or call.request.method != "POST":
            raise AwsError("UnknownOperationException",
                           f"The sandbox does not serve bedrock-runtime operation {call.request.method} /model/{{modelId}}/{action}", 404)
        call.operation = op[0]
        call.identifier = label  # as called: a model id, a foundation-model ARN, a profile id or ARN
        conform_params(input_shape("bedrock-runtime", op[0]), {"modelId": label}, "uri")
        # CountTokens takes "the identifier or ARN of the foundation model" (AWS's API reference), not a profile
        call.route = self.profiles.resolve(label, call.region, foundation_model=op[0] in FOUNDATION_MODEL_ONLY)
        call.model_id = call.route.model_id  # the model it runs on
        return await op[1](call, call.route.model_id)

    def _model(self, model_id: str):
        model = self.engine.catalog.model(model_id)
        if model is None:  # resolve() found it: only a model id given directly to a handler can miss
            raise AwsError("ResourceNotFoundException",
                           f"Model {model_id!r} is not available in this sandbox. List models with ListFoundationModels.", 404)
        return model

    @staticmethod
    def _converse_body(call: Call, operation: str) -> tuple[wire.Prompt, str | None]:
        """The Converse body checked against botocore's input shape (unknown members dropped), then read."""
        return wire.parse_converse(conform(input_shape("bedrock-runtime", operation), call.json()))

    @staticmethod
    def _tier_header(call: Call, operation: str) -> str | None:
        """InvokeModel's header members (the tier among them) checked against the input shape."""
        shape = input_shape("bedrock-runtime", operation)
        values = {name: call.request.headers[m.serialization["name"]] for name, m in shape.members.items()
                  if m.serialization.get("location") == "header" and m.serialization["name"] in call.request.headers}
        return conform_params(shape, values, "header").get("serviceTier")

    def _headers(self, call: Call, **extra: str) -> dict[str, str]:
        return {"x-amzn-RequestId": call.request_id, **extra}

    async def converse(self, call: Call, model_id: str) -> Response:
        self._model(model_id)
        prompt, tier = self._converse_body(call, "Converse")
        call.asked_tier = tier
        ticket, gen, outcome = await self.generate(model_id, tier, prompt, operation="Converse", call=call)
        body = wire.converse_response("".join(gen.pieces), gen.stop_reason, outcome.input_tokens,
                                      gen.output_tokens, outcome.latency_ms, ticket.reported_tier)
        return Response(body=json.dumps(body, separators=(",", ":")), content_type="application/json",
                            headers=self._headers(call))

    async def invoke(self, call: Call, model_id: str) -> Response:
        model = self._model(model_id)
        tier = self._tier_header(call, "InvokeModel")
        prompt = wire.parse_native(model.family, call.json())
        call.asked_tier = tier
        ticket, gen, outcome = await self.generate(model_id, tier, prompt, operation="InvokeModel", call=call)
        body = wire.native_response(model.family, model_id, call.request_id, "".join(gen.pieces), gen.stop_reason,
                                    outcome.input_tokens, gen.output_tokens)
        return Response(body=json.dumps(body, separators=(",", ":")), content_type="application/json",
                            headers=self._headers(call, **{"X-Amzn-Bedrock-Service-Tier": ticket.reported_tier,
                                                            "X-Amzn-Bedrock-Input-Token-Count": str(outcome.input_tokens),
                                                            "X-Amzn-Bedrock-Output-Token-Count": str(gen.output_tokens),
                                                            "X-Amzn-Bedrock-Invocation-Latency": str(int(outcome.latency_ms))}))

    async def count_tokens(self, call: Call, model_id: str) -> Response:
        """CountTokens: the input tokens the same request would be charged for by Converse or InvokeModel;
        nothing is admitted, generated or drawn from a quota."""
        model = self._model(model_id)
        body = conform(input_shape("bedrock-runtime", "CountTokens"), call.json())
        given = body["input"]
        if "converse" in given:
            prompt, _ = wire.parse_converse(given["converse"])
        else:
            try:
                raw = base64.b64decode(given["invokeModel"]["body"], validate=True)
            except (binascii.Error, ValueError):
                raise AwsError("ValidationException", "input.invokeModel.body: not base64-encoded", 400) from None
            try:
                native = parse_json(raw)
            except BadJson as exc:
                raise AwsError("ValidationException", f"input.invokeModel.body: {exc}", 400) from None
            if not isinstance(native, dict):
                raise AwsError("ValidationException", "input.invokeModel.body: must be a JSON object", 400)
            prompt = wire.parse_native(model.family, native)
        return Response(body=json.dumps({"inputTokens": prompt.input_tokens}), content_type="application/json",
                            headers=self._headers(call))

    async def converse_stream(self, call: Call, model_id: str) -> StreamResponse:
        self._model(model_id)
        prompt, tier = self._converse_body(call, "ConverseStream")
        call.asked_tier = tier

        def start(ticket: Ticket) -> list[bytes]:
            return [eventstream.event("messageStart", {"role": "assistant"})]

        def delta(text: str) -> bytes:
            return eventstream.event("contentBlockDelta", {"delta": {"text": text}, "contentBlockIndex": 0})

        def end(ticket: Ticket, gen: Generation, input_tokens: int, latency_ms: float, ttft_ms: float) -> list[bytes]:
            return [eventstream.event("contentBlockStop", {"contentBlockIndex": 0}),
                    eventstream.event("messageStop", {"stopReason": gen.stop_reason}),
                    eventstream.event("metadata", wire.converse_metadata(input_tokens, gen.output_tokens, latency_ms,
                                                                         ticket.reported_tier))]

        return await self._stream(call, model_id, tier, prompt, "ConverseStream", start, delta, end, None)

    async def invoke_stream(self, call: Call, model_id: str) -> StreamResponse:
        model = self._model(model_id)
        tier = self._tier_header(call, "InvokeModelWithResponseStream")
        prompt = wire.parse_native(model.family, call.json())
        call.asked_tier = tier
        fam, rid = model.family, call.request_id

        def chunk(native: dict) -> bytes:
            return eventstream.event("chunk", wire.chunk_payload(native))

        def start(ticket: Ticket) -> list[bytes]:
            return [chunk(c) for c in wire.native_stream_start(fam, model_id, rid, prompt.input_tokens)]

        def delta(text: str) -> bytes:
            return chunk(wire.native_stream_delta(fam, model_id, rid, text))

        def end(ticket: Ticket, gen: Generation, input_tokens: int, latency_ms: float, ttft_ms: float) -> list[bytes]:
            metrics = wire.invocation_metrics(input_tokens, gen.output_tokens, latency_ms, ttft_ms)
            return [chunk(c) for c in wire.native_stream_end(fam, model_id, rid, gen.stop_reason, input_tokens,
                                                             gen.output_tokens, metrics)]

        return await self._stream(call, model_id, tier, prompt, "InvokeModelWithResponseStream", start, delta, end,
                                  "tier-header")

    async def _stream(self, call: Call, model_id: str, tier: str | None, prompt: wire.Prompt, operation: str,
                      start: Callable[[Ticket], list[bytes]], delta: Callable[[str], bytes],
                      end: Callable[..., list[bytes]], tier_header: str | None) -> StreamResponse:
        """Admission, then an event stream paced at the tier's speed.

        A request throttled at admission is an HTTP 429 ``ThrottlingException`` before the stream starts,
        as Bedrock answers it (SDKs retry it as they retry any throttle); only a stream already under way
        carries errors in-stream.
        """
        started = self.clock.now()
        input_tokens = prompt.input_tokens
        resp = StreamResponse(status=200, headers=self._headers(call, **{
            "Content-Type": "application/vnd.amazon.eventstream"}))
        ticket: Ticket | None = None
        route = call.route
        try:
            self._fault(operation, model_id)
            ticket = await self.admission.acquire(model_id, tier, input_tokens, prompt.max_tokens, route,
                                                  region=call.region if call is not None else None)
        except Throttled as t:
            self.record(call, operation, model_id, tier, started, ticket=t.ticket, status=429,
                        error="ThrottlingException", message=t.ticket.throttle_message, input_tokens=input_tokens,
                        route=route)
            raise AwsError("ThrottlingException", t.ticket.throttle_message, 429) from None
        except (AwsError, EngineError) as e:
            self.record(call, operation, model_id, tier, started, status=e.status, error=e.code,
                        message=e.message, input_tokens=input_tokens, route=route)
            raise
        gen = self.plan(prompt, ticket)
        if tier_header:  # InvokeModelWithResponseStream's header members (contentType is required)
            resp.headers["X-Amzn-Bedrock-Service-Tier"] = ticket.reported_tier
            resp.headers["X-Amzn-Bedrock-Content-Type"] = "application/json"
        sent = 0
        ttft_ms = 0.0
        try:
            await resp.prepare(call.request)
            for frame in start(ticket):
                await resp.write(frame)
            await sleep_sandbox(self.clock, gen.ttft_s)
            ttft_ms = (self.clock.now() - started) * 1000.0
            per_chunk_s = TOKENS_PER_CHUNK / gen.tps
            for text in wire.split_pieces(gen.pieces, TOKENS_PER_CHUNK):
                frame = delta(text)
                if call.stream_fault == "badframe" and not sent:
                    frame = eventstream.corrupt(frame)
                await resp.write(frame)
                sent += min(TOKENS_PER_CHUNK, gen.output_tokens - sent)
                if call.stream_fault == "cut":
                    call.request.abort()
                    raise ConnectionResetError("sandbox fault: stream cut")
                await sleep_sandbox(self.clock, per_chunk_s)
            latency_ms = (self.clock.now() - started) * 1000.0
            for frame in end(ticket, gen, input_tokens, latency_ms, ttft_ms):
                await resp.write(frame)
            await resp.write_eof()
        except (asyncio.CancelledError, ConnectionResetError) as e:
            # The client went away mid-stream: what was generated is what is charged.
            counted = self.admission.release(ticket, sent)
            error = "InjectedStreamCut" if call.stream_fault == "cut" else "ClientClosedRequest"
            call.ended = (499, error)  # the access log says what the metrics count (a client error)
            self.record(call, operation, model_id, tier, started, ticket=ticket, status=499, error=error,
                        output_tokens=sent, quota_tokens=counted, input_tokens=input_tokens, ttft_ms=ttft_ms or None,
                        route=route)
            if isinstance(e, asyncio.CancelledError):
                raise
            return resp  # already prepared: nothing more to send on a closed connection, and no traceback to log
        counted = self.admission.release(ticket, gen.output_tokens)
        self.record(call, operation, model_id, tier, started, ticket=ticket, output_tokens=gen.output_tokens,
                    quota_tokens=counted, input_tokens=input_tokens, ttft_ms=ttft_ms, route=route)
        return resp


def runtime_target(raw_path: str) -> tuple[str | None, str]:
    """(model identifier, action) of ``/model/{modelId}/{action}`` from the raw (still encoded) path.

    SDKs percent-encode the whole label (botocore: ``quote(label, safe='')``), so an ARN's ``/`` arrives
    as ``%2F``: split the raw path first, then unquote the label once. A label sent with a literal ``/``
    (a hand-made request) is rejoined. (None, "") when the path is not a runtime action's.
    """
    parts = raw_path.split("?", 1)[0].split("/")
    if len(parts) < 4 or parts[0] or parts[1] != "model" or parts[-1] not in RUNTIME_ACTIONS:
        return None, ""
    return unquote("/".join(parts[2:-1])), parts[-1]


FOUNDATION_MODEL_ONLY = ("CountTokens",)  # operations whose modelId names a foundation model, never a profile
RUNTIME_ACTIONS = ("converse", "converse-stream", "invoke", "invoke-with-response-stream", "count-tokens")
