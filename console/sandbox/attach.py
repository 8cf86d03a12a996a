"""Which background sandbox a profile attaches to (its config compared by content), starting one for the
console, and what a command on a throwaway in-process sandbox says. The background sandbox itself (state
file, start, stop, identity) is :mod:`.daemon`."""
from __future__ import annotations

from typing import Any

from .daemon import DEFAULT_PORT, State, StartError, _absolute, config_label, read_state, recorded, start


def _config_of(profile: Any) -> str | None:
    """The config a sandbox profile's background sandbox is started from: None for the built-in sandbox
    profile (the sandbox's default), the package's file for another built-in one (fleet)."""
    if profile.origin != "built-in":
        return _absolute(profile.source)
    if profile.name == "sandbox":
        return None
    from importlib import resources  # noqa: PLC0415

    return str(resources.files("tierconsole.profiles").joinpath(f"{profile.name}.yaml"))


def _digest_of(profile: Any) -> str:
    from .config import config_digest  # noqa: PLC0415 - the sandbox config parser, only for a sandbox profile

    return config_digest(profile.raw)


def for_profile(profile: Any) -> State | None:
    """The running background sandbox started from a config saying what ``profile``'s file says, if any."""
    if not profile.is_sandbox:
        return None
    state = read_state()
    if state is None or state.config_digest != _digest_of(profile):
        return None
    return state


def for_endpoint(endpoint: str | None) -> State | None:
    """The running background sandbox at ``endpoint`` (to use its keys when aimed at it by URL)."""
    state = read_state() if endpoint else None
    return state if state is not None and state.endpoint.rstrip("/") == endpoint.rstrip("/") else None


def start_for(profile: Any, *, scenario: str | None) -> State:
    """Start (or find) the background sandbox for ``profile``: the default port when free, else any."""
    config = _config_of(profile)
    try:
        state, _ = start(config=config, scenario=scenario, port=DEFAULT_PORT)
    except StartError as e:
        if e.code != 2:
            raise
        state, _ = start(config=config, scenario=scenario, port=0)  # 4599 taken: any free port
    return state


def start_hint(profile: Any) -> str:
    """How to start a background sandbox this profile attaches to."""
    if profile.origin == "built-in" and profile.name == "sandbox":
        return "`tierconsole sandbox start`"
    return f"`tierconsole --profile {profile.name} sandbox start`"


def throwaway_note(profile: Any) -> str:
    """The one line a headless command prints when it runs on a throwaway in-process sandbox; what it
    suggests works as written (never a start that would find another sandbox running)."""
    other, proved = recorded()
    keep = f"Run {start_hint(profile)} to keep state between commands."
    if other is None:
        why = "no background sandbox is running"
    elif not proved:
        why = (f"the background sandbox recorded at {other.describe()} does not answer there as itself, so "
               "nothing uses it")
        keep = f"To keep state between commands: `tierconsole sandbox stop`, then {start_hint(profile)}."
    else:
        why = (f"the background sandbox at {other.describe()} runs {config_label(other.config)}, which says "
               f"something else than the {profile.name} profile's file ({profile.source})")
        keep = f"To keep state between commands: `tierconsole sandbox stop`, then {start_hint(profile)}."
    return (f"tierconsole: note: {why}; this command runs on a throwaway in-process sandbox and what it makes "
            f"(jobs, objects, metrics) is gone when it exits. {keep}")
