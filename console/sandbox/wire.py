"""Request parsing and response shapes for bedrock-runtime: Converse and the native model bodies.

Everything here is pure: bytes/dicts in, dicts/strings out. Field errors raise
:class:`AwsError` ``ValidationException`` naming the field.
"""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..core.domain.tokens import estimate_many
from .http import AwsError

STOP_REASON_OPENAI = {"end_turn": "stop", "max_tokens": "length", "stop_sequence": "stop"}


def bad(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


@dataclass
class Prompt:
    """What the sandbox needs from any request shape."""

    texts: list[str] = field(default_factory=list)  # system and message text, in order
    max_tokens: int | None = None
    temperature: float | None = None

    @property
    def input_tokens(self) -> int:
        return estimate_many(self.texts)

    @property
    def key(self) -> str:
        """The deterministic seed of the generated answer."""
        return "\x1e".join(self.texts)


def _number(value: Any, where: str, *, integer: bool = False, lo: float | None = None, hi: float | None = None):
    if value is None:
        return None
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if not ok or isinstance(value, bool):
        raise bad(f"{where}: must be {'an integer' if integer else 'a number'}, got {json.dumps(value)}")
    if lo is not None and value < lo or hi is not None and value > hi:
        rng = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise bad(f"{where}: must be {rng}, got {value}")
    return value


def _text_blocks(content: Any, where: str) -> list[str]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise bad(f"{where}: must be a list of content blocks")
    out = []
    for j, block in enumerate(content):
        if not isinstance(block, dict):
            raise bad(f"{where}[{j}]: must be an object")
        text = block.get("text")
        if text is not None:
            if not isinstance(text, str):
                raise bad(f"{where}[{j}].text: must be a string")
            out.append(text)
    return out


def _messages(messages: Any, where: str = "messages") -> list[str]:
    if not isinstance(messages, list) or not messages:
        raise bad(f"{where}: at least one message is required")
    texts: list[str] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise bad(f"{where}[{i}]: must be an object")
        role = msg.get("role")
        if role not in ("user", "assistant", "system", "developer", "tool"):
            raise bad(f"{where}[{i}].role: must be 'user' or 'assistant', got {json.dumps(role)}")
        if "content" not in msg:
            raise bad(f"{where}[{i}].content: is required")
        texts += _text_blocks(msg["content"], f"{where}[{i}].content")
    if isinstance(messages[0], dict) and messages[0].get("role") == "assistant":
        raise bad(f"{where}[0].role: a conversation must start with a user message")
    return texts


# ------------------------------------------------------------------ Converse

def parse_converse(body: dict) -> tuple[Prompt, str | None]:
    """(prompt, asked tier or None) from a Converse / ConverseStream body."""
    texts: list[str] = []
    system = body.get("system")
    if system is not None:
        texts += _text_blocks(system, "system")
    texts += _messages(body.get("messages"))
    cfg = body.get("inferenceConfig") or {}
    if not isinstance(cfg, dict):
        raise bad("inferenceConfig: must be an object")
    prompt = Prompt(
        texts=texts,
        max_tokens=_number(cfg.get("maxTokens"), "inferenceConfig.maxTokens", integer=True, lo=1),
        temperature=_number(cfg.get("temperature"), "inferenceConfig.temperature", lo=0, hi=1),
    )
    _number(cfg.get("topP"), "inferenceConfig.topP", lo=0, hi=1)
    tier = body.get("serviceTier")
    if tier is not None:
        if not isinstance(tier, dict) or not isinstance(tier.get("type"), str):
            raise bad('serviceTier: must be an object like {"type": "priority"}')
        tier = tier["type"]
    return prompt, tier


def converse_response(text: str, stop_reason: str, input_tokens: int, output_tokens: int,
                      latency_ms: float, tier: str) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                  "totalTokens": input_tokens + output_tokens},
        "metrics": {"latencyMs": int(latency_ms)},
        "serviceTier": {"type": tier},
    }


def converse_metadata(input_tokens: int, output_tokens: int, latency_ms: float, tier: str) -> dict:
    return {"usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                      "totalTokens": input_tokens + output_tokens},
            "metrics": {"latencyMs": int(latency_ms)}, "serviceTier": {"type": tier}}


# ------------------------------------------------------------------ native bodies (InvokeModel)

def parse_native(family: str, body: dict) -> Prompt:
    if family == "anthropic":
        texts = []
        if body.get("system") is not None:
            texts += _text_blocks(body["system"], "system")
        texts += _messages(body.get("messages"))
        if "max_tokens" not in body:
            raise bad("max_tokens: field required")
        return Prompt(texts, _number(body.get("max_tokens"), "max_tokens", integer=True, lo=1),
                      _number(body.get("temperature"), "temperature", lo=0, hi=1))
    if family == "nova":
        texts = []
        if body.get("system") is not None:
            texts += _text_blocks(body["system"], "system")
        texts += _messages(body.get("messages"))
        cfg = body.get("inferenceConfig") or {}
        if not isinstance(cfg, dict):
            raise bad("inferenceConfig: must be an object")
        mt = cfg.get("maxTokens", cfg.get("max_new_tokens"))
        return Prompt(texts, _number(mt, "inferenceConfig.maxTokens", integer=True, lo=1),
                      _number(cfg.get("temperature"), "inferenceConfig.temperature", lo=0, hi=1))
    if family == "openai":
        texts = _messages(body.get("messages"))
        mt = body.get("max_completion_tokens", body.get("max_tokens"))
        return Prompt(texts, _number(mt, "max_completion_tokens", integer=True, lo=1),
                      _number(body.get("temperature"), "temperature", lo=0, hi=2))
    # generic: {"prompt": "...", "max_tokens"/"max_gen_len": N}
    if "messages" in body:
        texts = _messages(body["messages"])
    elif isinstance(body.get("prompt"), str):
        texts = [body["prompt"]]
    else:
        raise bad("prompt: field required (a string) or messages")
    mt = body.get("max_tokens", body.get("max_gen_len"))
    return Prompt(texts, _number(mt, "max_tokens", integer=True, lo=1), None)


def native_response(family: str, model_id: str, request_id: str, text: str, stop_reason: str,
                    input_tokens: int, output_tokens: int) -> dict:
    if family == "anthropic":
        return {"id": f"msg_bdrk_{request_id[:24]}", "type": "message", "role": "assistant", "model": model_id,
                "content": [{"type": "text", "text": text}], "stop_reason": stop_reason, "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}
    if family == "nova":
        return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                "stopReason": stop_reason,
                "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                          "totalTokens": input_tokens + output_tokens}}
    if family == "openai":
        return {"id": f"chatcmpl-{request_id[:24]}", "object": "chat.completion", "created": int(time.time()),
                "model": model_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": STOP_REASON_OPENAI.get(stop_reason, "stop")}],
                "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
                          "total_tokens": input_tokens + output_tokens}}
    return {"generation": text, "prompt_token_count": input_tokens, "generation_token_count": output_tokens,
            "stop_reason": "length" if stop_reason == "max_tokens" else "stop"}


def invocation_metrics(input_tokens: int, output_tokens: int, latency_ms: float, ttft_ms: float) -> dict:
    return {"inputTokenCount": input_tokens, "outputTokenCount": output_tokens,
            "invocationLatency": int(latency_ms), "firstByteLatency": int(ttft_ms)}


def native_stream_start(family: str, model_id: str, request_id: str, input_tokens: int) -> list[dict]:
    if family == "anthropic":
        return [{"type": "message_start", "message": {
                    "id": f"msg_bdrk_{request_id[:24]}", "type": "message", "role": "assistant", "model": model_id,
                    "content": [], "stop_reason": None, "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": 1}}},
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}]
    if family == "nova":
        return [{"messageStart": {"role": "assistant"}}]
    return []


def native_stream_delta(family: str, model_id: str, request_id: str, text: str) -> dict:
    if family == "anthropic":
        return {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
    if family == "nova":
        return {"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}}
    if family == "openai":
        return {"id": f"chatcmpl-{request_id[:24]}", "object": "chat.completion.chunk", "model": model_id,
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return {"generation": text, "stop_reason": None}


def native_stream_end(family: str, model_id: str, request_id: str, stop_reason: str, input_tokens: int,
                      output_tokens: int, metrics: dict) -> list[dict]:
    if family == "anthropic":
        return [{"type": "content_block_stop", "index": 0},
                {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                 "usage": {"output_tokens": output_tokens}},
                {"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics}]
    if family == "nova":
        return [{"contentBlockStop": {"contentBlockIndex": 0}},
                {"messageStop": {"stopReason": stop_reason}},
                {"metadata": {"usage": {"inputTokens": input_tokens, "outputTokens": output_tokens},
                              "metrics": {}, "trace": {}},
                 "amazon-bedrock-invocationMetrics": metrics}]
    if family == "openai":
        return [{"id": f"chatcmpl-{request_id[:24]}", "object": "chat.completion.chunk", "model": model_id,
                 "choices": [{"index": 0, "delta": {},
                              "finish_reason": STOP_REASON_OPENAI.get(stop_reason, "stop")}],
                 "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
                           "total_tokens": input_tokens + output_tokens},
                 "amazon-bedrock-invocationMetrics": metrics}]
    return [{"generation": "", "stop_reason": "length" if stop_reason == "max_tokens" else "stop",
             "amazon-bedrock-invocationMetrics": metrics}]


def chunk_payload(native: dict) -> dict:
    """InvokeModelWithResponseStream's ``chunk`` event: the native JSON, base64'd."""
    return {"bytes": base64.b64encode(json.dumps(native, separators=(",", ":")).encode()).decode()}


def split_pieces(pieces: list[str], per_chunk: int) -> Iterator[str]:
    for i in range(0, len(pieces), per_chunk):
        yield "".join(pieces[i:i + per_chunk])
