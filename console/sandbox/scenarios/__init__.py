"""Background traffic scenarios (steady, spike, flex-backlog, reserved-overflow, outage, calm, hot).

A scenario is background load on the sandbox: tenants that send requests at a rate or with a
concurrency, phases that multiply the load over time, and fault phases (503 bursts, slow
answers). The file format is documented in :mod:`.spec`; the built-in files sit beside this
module. ``start_scenario(sandbox, name)`` takes a built-in name or a path to a YAML file.

=================== ==========================================================================
built-in            what it shows
=================== ==========================================================================
steady              every tier busy at a fair share (~30-60%) of each quota, reserved included
spike               Standard traffic on GPT OSS 20B surges past its quota: a throttling storm
flex-backlog        Standard keeps Nova Lite's quota full: the flex queue grows, waits get
                    long and flex requests time out (the scenario sets a 10-minute flex wait)
reserved-overflow   the Sonnet 4.5 reservation saturates; reserved requests overflow to
                    Standard (reported as ``default``)
outage              bursts of ``ServiceUnavailableException`` and slow answers
calm                light traffic on every model, far below each quota (a fleet's quiet accounts)
hot                 Nova Lite at about 85-90% of its TPM quota without throttles (a fleet's hot accounts)
=================== ==========================================================================
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.domain.catalog import Catalog, ConfigError
from ..choices import SCENARIOS
from .runner import ScenarioRun
from .spec import FaultSpec, PhaseSpec, Scenario, TenantSpec, load_scenario_file, parse_scenario

if TYPE_CHECKING:  # pragma: no cover
    from ..host import SandboxHost

BUILT_IN = SCENARIOS  # the command line's help lists them from ..choices

__all__ = ["BUILT_IN", "FaultSpec", "PhaseSpec", "Scenario", "ScenarioRun", "TenantSpec", "load_scenario",
           "parse_scenario", "start_scenario"]


def load_scenario(name: str | Path, catalog: Catalog | None = None) -> Scenario:
    """A built-in scenario by name, or a scenario file by path. Errors name the file, line and field."""
    if str(name) in BUILT_IN and str(name) != "none":
        ref = resources.files(__package__).joinpath(f"{name}.yaml")
        return load_scenario_file(ref, catalog, text=ref.read_text(encoding="utf-8"),
                                  source=f"scenarios/{name}.yaml")
    path = Path(name)
    if path.suffix.lower() not in (".yaml", ".yml") and not path.exists():
        raise ConfigError("scenario", f"unknown scenario {str(name)!r}: give a YAML file or one of "
                          f"{', '.join(BUILT_IN)}")
    return load_scenario_file(path, catalog)


def start_scenario(sandbox: "SandboxHost", name: str | Path | None) -> ScenarioRun | None:
    """Start a scenario's load as background tasks of a started sandbox (on its loop). The caller keeps
    the run (a :class:`~..app.Sandbox` keeps the one it starts as ``scenario_run``)."""
    if name in (None, "", "none"):
        return None
    return ScenarioRun(sandbox, load_scenario(name, sandbox.config.catalog)).start()
