"""Why a Reserved request was served by Standard: the words the prompt's results (CLI text, ``--json`` and the
prompt lab) give when the response's served tier says the reservation overflowed.

Pure: from the response's served tier, the profile's reservations and the request's ``maxTokens``. Bedrock admits
a Reserved request against the reservation's input and output tokens-per-minute (holding input + ``maxTokens``
until it settles); one that does not fit is served by Standard and billed at Standard (the tier engine,
README "Reserved"). The response says only the served tier, so the reason is named as the documented rule.
"""
from __future__ import annotations

from typing import Iterable

from .catalog import ReservationSpec


def reservation_for(model_id: str, reservations: Iterable[ReservationSpec]) -> ReservationSpec | None:
    """The reservation of ``model_id`` (a bare id, or an inference profile / ARN ending with it)."""
    return next((r for r in reservations if model_id == r.model_id or model_id.endswith(r.model_id)), None)


def overflow_note(asked: str, served: str | None, model_id: str, reservations: Iterable[ReservationSpec],
                  max_tokens: int | None) -> str | None:
    """The note of a Reserved request served by Standard (None for any other result)."""
    if asked != "reserved" or served != "default":
        return None
    res = reservation_for(model_id, reservations)
    held = f"maxTokens {max_tokens:,}" if max_tokens else "maxTokens (the model's maximum: none was set)"
    if res is None:
        return ("served by Standard (billed at Standard): the reservation was full, so the request overflowed; "
                f"its hold is input + {held}")
    return (f"served by Standard (billed at Standard): reservation {res.reservation_id} was full "
            f"({res.input_tpm:,} input / {res.output_tpm:,} output TPM reserved); the request holds input + {held} "
            "against it, so a smaller --max-tokens fits sooner")
