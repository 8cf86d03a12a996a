"""``tierconsole sandbox start|stop|status``: the background sandbox's commands (what they print and their
exit codes) over :mod:`.daemon`."""
from __future__ import annotations

import json
import sys
from pathlib import Path
import time
from dataclasses import asdict

from .daemon import (
    EXIT_NOT_RUNNING, EXIT_UNVERIFIED, State, StartError, config_label, recorded, start, state_path, stop,
)


def _region(state: State) -> str:
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from .config import DEFAULT_REGION, load_sandbox_config  # noqa: PLC0415

    try:
        return load_sandbox_config(state.config).region
    except (ConfigError, OSError):  # it started from this file a moment ago; changed since?
        return DEFAULT_REGION


def _key_ids(state: State) -> list[str]:
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from .auth import load_keys  # noqa: PLC0415

    try:
        return list(load_keys(state.auth)) if state.auth else []
    except (ConfigError, OSError):
        return []


def _say_started(state: State, out=sys.stdout) -> None:
    from .serve import client_exports  # noqa: PLC0415

    print(f"sandbox started at {state.describe()}; log: {state.log}", file=out)
    served = Path(state.config).stem if state.config else "sandbox"  # the profile file it was started from
    print(f"# later commands on a sandbox profile attach to it (it serves profile {served}: "
          f"`tierconsole --profile {served} …`); aim other AWS clients at it with:", file=out)
    for line in client_exports(state.endpoint, _region(state), _key_ids(state) if state.auth else None,
                               state.auth):
        print(line, file=out)
    print("# `tierconsole sandbox stop` stops it.", file=out, flush=True)


def cmd_start(args) -> int:
    try:
        state, started = start(host=args.host, port=args.port, config=args.config, scenario=args.scenario,
                               speed=args.speed, access_log=args.access_log, auth=args.auth, faults=args.faults)
    except StartError as e:
        print(f"tierconsole sandbox: error: {e}", file=sys.stderr)
        return e.code
    if not started:
        print(f"sandbox already running at {state.describe()}; `tierconsole sandbox stop` stops it")
        return 0
    _say_started(state)
    return 0


def cmd_stop(args) -> int:
    state = stop()
    if state is None:
        print("no background sandbox is running")
    else:
        print(f"stopped the sandbox at {state.describe()}")
    return 0


def cmd_status(args) -> int:
    state, proved = recorded()
    code = 0 if proved else EXIT_UNVERIFIED if state is not None else EXIT_NOT_RUNNING
    if args.json:
        print(json.dumps({"running": state is not None, "answers": proved, **(asdict(state) if state else {}),
                          "state_file": str(state_path())}, indent=2))
        return code
    if state is None:
        print(f"no background sandbox is running (state file: {state_path()})")
        return code
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(state.started))
    if proved:
        print(f"sandbox running at {state.describe()} since {since}")
    else:
        print(f"sandbox recorded at {state.describe()} since {since}, but it does not answer there as itself: "
              "nothing attaches to it; `tierconsole sandbox stop` stops it")
    print(f"config {config_label(state.config)}, scenario {state.scenario}, speed {state.speed:g}x, "
          f"auth {state.auth or 'off'}{f', faults {state.faults}' if state.faults else ''}")
    print(f"log {state.log}; state file {state_path()}")
    return code
