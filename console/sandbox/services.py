"""Attach the services that sit beside bedrock-runtime on the sandbox endpoint."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .app import Sandbox


def install(sandbox: "Sandbox") -> None:
    """Every service module registers itself here; the next ones are added as they are built."""
