"""On-demand quota arithmetic (token burndown), as Bedrock documents it.

At admission the service holds ``inputTokens + maxTokens`` against the model's TPM quota
(an unset maxTokens holds the model maximum). At completion the hold settles to
``input + cacheWrite + output × burndown``. Cache reads are not counted. Whether the hold
itself is multiplied by the burndown rate is not documented: it is a setting.
"""
from __future__ import annotations


def hold_tokens(input_tokens: int, max_tokens: int, burndown: float, *, hold_applies_burndown: bool) -> int:
    out = max_tokens * burndown if hold_applies_burndown else max_tokens
    return int(input_tokens + out)


def settled_tokens(input_tokens: int, output_tokens: int, burndown: float, cache_write_tokens: int = 0) -> int:
    return int(input_tokens + cache_write_tokens + output_tokens * burndown)


def reserved_input_tokens(input_tokens: int, cache_write_tokens: int = 0) -> int:
    """What a request draws from a reservation's input TPM."""
    return input_tokens + cache_write_tokens
