"""The one token estimator used everywhere in tierconsole and its sandbox.

Real models tokenize differently; the sandbox needs one rule that usage, quotas and
metrics all agree on. The rule: a text of N characters is ``ceil(N / 4)`` tokens
(an empty text is 0). A request's input tokens are the sum over its system blocks and
every text block of every message. Sandbox output text is built from 4-character
pieces so that the estimate of the generated text equals the reported output tokens.
"""
from __future__ import annotations

import hashlib
from typing import Iterable

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def estimate_many(texts: Iterable[str]) -> int:
    return sum(estimate_tokens(t) for t in texts)


# Three-letter words: with the following space each is exactly one token (4 characters). 32 of them: one
# byte's low 5 bits pick one.
_WORDS = (
    "the sky oak elm ash fir bay sea map log key net bit tag box "
    "arc ray sun dew fog ice jet kit lab mix row set tip use via web zen"
).split()
_PIECES = tuple(w + " " for w in _WORDS)
assert len(_PIECES) == 32
_PREFIX = "SANDBOX "  # 8 characters: 2 tokens; marks the text as sandbox output


def output_length(prompt_digest: bytes, max_tokens: int, *, low: int = 24, high: int = 480) -> int:
    """How many tokens the sandbox model 'wants' to say for a prompt (before maxTokens)."""
    span = max(high - low, 1)
    wanted = low + int.from_bytes(prompt_digest[:4], "big") % span
    return max(0, min(wanted, max_tokens))


def prompt_digest(prompt: str, seed: int = 0) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{prompt}".encode(), digest_size=16).digest()


def sandbox_text_pieces(digest: bytes, n_tokens: int) -> list[str]:
    """Deterministic sandbox text as a list of one-token pieces (4 chars each, last trimmed).

    ``"".join(pieces)`` has exactly ``n_tokens`` tokens under :func:`estimate_tokens`. The words are drawn by
    the bytes of SHAKE-128 of ``digest`` (one call, ~5 µs for 64 tokens: a seeded ``random.Random`` and a
    ``choice`` per token cost ~60 µs, a tenth of the sandbox's CPU for a whole Converse call).
    """
    if n_tokens <= 0:
        return []
    pieces: list[str] = ["SAND", "BOX "] if n_tokens >= 2 else []
    pieces += [_PIECES[b & 31] for b in hashlib.shake_128(digest).digest(n_tokens - len(pieces))]
    pieces[-1] = pieces[-1].rstrip()  # 3 chars still estimate to one token
    return pieces


def sandbox_text(digest: bytes, n_tokens: int) -> str:
    return "".join(sandbox_text_pieces(digest, n_tokens))
