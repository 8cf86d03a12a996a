"""Background traffic scenarios (steady, spike, flex-backlog, reserved-overflow, outage)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..app import Sandbox

BUILT_IN = ("none", "steady", "spike", "flex-backlog", "reserved-overflow", "outage")


def start_scenario(sandbox: "Sandbox", name: str) -> None:
    if name in (None, "", "none"):
        return
    raise ValueError(f"unknown scenario {name!r}; built-in: {', '.join(BUILT_IN)}")
