"""The sandbox's named choices, in a module that imports nothing: the fault kinds (:mod:`.faults`) and the built-in
scenarios (:mod:`.scenarios`, one YAML file each beside it, and ``none``). The command line's help lists them
from here (it is built on the console's way to its first frame, so it may not import the sandbox itself)."""
from __future__ import annotations

FAULT_KINDS = ("503", "500", "throttle", "slow", "reset", "lost", "expired", "denied", "down", "badframe", "cut",
               "notready")
#: how a kind's argument is written in help (``slow=D``, ``down=D/P``)
FAULT_ARGS = {"slow": "=D", "down": "=D/P"}
SCENARIOS = ("none", "steady", "spike", "flex-backlog", "reserved-overflow", "outage", "calm", "hot")


def fault_kinds_text() -> str:
    """``503, 500, throttle, slow=D, …, notready``."""
    return ", ".join(kind + FAULT_ARGS.get(kind, "") for kind in FAULT_KINDS)
