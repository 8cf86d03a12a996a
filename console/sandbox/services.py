"""Attach the services that sit beside bedrock-runtime on the sandbox endpoint."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .app import Sandbox


def install(sandbox: "Sandbox") -> None:
    from . import moto_bridge  # noqa: PLC0415

    sandbox.moto = moto_bridge.install(sandbox)
