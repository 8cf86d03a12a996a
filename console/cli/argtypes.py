"""argparse value types shared by every subcommand: numbers within bounds, with messages that say why."""
from __future__ import annotations

import argparse
from typing import Callable


def number(kind: type = float, *, above: float | None = None, at_least: float | None = None,
           at_most: float | None = None) -> Callable[[str], float]:
    """A type that parses ``kind`` and checks ``> above``, ``>= at_least`` and ``<= at_most``."""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {noun}: {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")):  # NaN and infinities are not settings
            raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"must be greater than {above:g}, got {text}")
        if at_least is not None and value < at_least:
            raise argparse.ArgumentTypeError(f"must be at least {at_least:g}, got {text}")
        if at_most is not None and value > at_most:
            raise argparse.ArgumentTypeError(f"must be at most {at_most:g}, got {text}")
        return value

    return parse


positive_float = number(float, above=0)
positive_int = number(int, at_least=1)
#: An ``integer`` member of a botocore model (``maxTokens``: min 1, no max declared) is a 32-bit signed integer
#: on the wire; beyond it a value is the service's ValidationException, so it is a usage error here.
API_INT_MAX = 2**31 - 1
api_count = number(int, at_least=1, at_most=API_INT_MAX)


def sandbox_speed(text: str) -> float:
    """``--speed`` of the embedded sandbox, wherever it is typed (``sandbox``, ``record``)."""
    from ..sandbox.clock import MAX_SPEED  # noqa: PLC0415 - a constant of a stdlib-only module

    return number(float, above=0, at_most=MAX_SPEED)(text)
