"""Attach the services that sit beside bedrock-runtime on the sandbox endpoint."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .app import Sandbox


def install(sandbox: "Sandbox") -> None:
    from . import metrics, moto_bridge, servicequotas  # noqa: PLC0415

    sandbox.moto = moto_bridge.install(sandbox)
    from . import control  # noqa: PLC0415

    control.install(sandbox)  # sandbox.bedrock_control (bedrock control plane) and sandbox.batch (batch jobs)
    sandbox.metrics = metrics.install(sandbox)
    sandbox.services["servicequotas"] = servicequotas.ServiceQuotas(sandbox.config).handle
