"""Running ``tierconsole watch`` once its arguments are checked: the event log, state, recorder, sinks and
the loop (:class:`~tierconsole.core.watch.runner.WatchRunner`)."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_FAIL, EXIT_OK, err

EXIT_LOST = 3  # stopped cleanly, but alerts were lost: a sink gave up, a full queue dropped, nowhere to keep them


def state_path(args: argparse.Namespace, profile: Any) -> Path | None:
    from ..core.watch.state import default_state_path  # noqa: PLC0415

    if args.no_state:
        return None
    return Path(args.state) if args.state else default_state_path(profile.name)


def build_workers(source: Any, specs: list[Any], log: Any) -> dict[str, Any]:
    from ..core.watch.sinks import ExecDelivery, SinkWorker, SnsDelivery, WebhookDelivery  # noqa: PLC0415

    workers = {}
    for spec in specs:
        if spec.type == "exec":
            delivery: Any = ExecDelivery(spec)
        elif spec.type == "webhook":
            delivery = WebhookDelivery(spec, spec.url)
        else:
            delivery = SnsDelivery(spec, lambda region: source.ctx.client("sns", region))
        workers[spec.name] = SinkWorker(spec, delivery, log.write)
    return workers


def rules_line(rules: Any, fleet: bool) -> str:
    """``default (quota_over, stale)``; on a fleet only the kinds it evaluates, then ``; not on a fleet: …``."""
    from ..core.domain.watchconfig import FLEET_KINDS  # noqa: PLC0415

    def kinds(events: Any) -> str:
        return ", ".join(sorted(events & FLEET_KINDS if fleet else events)) or "nothing on a fleet"

    line = ", ".join(f"{r.name} ({kinds(r.events)})" for r in rules)
    skipped = sorted({k for r in rules for k in r.events} - FLEET_KINDS) if fleet else []
    return line + (f"; not on a fleet: {', '.join(skipped)}" if skipped else "")


def run_watch(args: argparse.Namespace, source: Any, sinks: list[Any], given: list[Any]) -> int:
    from ..core.domain.alerting import Watch  # noqa: PLC0415
    from ..core.watch.eventlog import EventLog, Redactor  # noqa: PLC0415
    from ..core.watch.runner import WatchRunner  # noqa: PLC0415
    from ..core.watch.state import StateFile  # noqa: PLC0415

    profile = source.profile
    fleet = profile.fleet is not None
    redact = Redactor(s.url for s in (*sinks, *given) if s.url)
    log = EventLog(json_lines=True if args.json else None, path=args.log, max_bytes=args.log_max_size,
                   backups=args.log_backups, redact=redact, quiet=args.quiet)
    path = state_path(args, profile)
    state = StateFile(path) if path is not None else None
    doc, warning = state.load() if state is not None else (None, None)
    if fleet:  # the fleet's collector and the same detector per account × region
        from ..core.domain.fleetwatch import FleetWatch  # noqa: PLC0415
        from ..core.watch.fleet_source import FleetSource  # noqa: PLC0415

        source = FleetSource(source)
        watch: Any = FleetWatch(profile.watch, doc)
    else:
        watch = Watch(profile.watch, doc)
    recorder = None
    if args.record:
        from ..recording.format import RecordingError  # noqa: PLC0415
        from ..recording.recorder import Recorder  # noqa: PLC0415

        try:
            recorder = Recorder(args.record, profile, max_bytes=args.record_max_size)
        except RecordingError as e:
            err(str(e))
            return EXIT_FAIL
    names = [s.name for s in given]
    workers = build_workers(source, [*sinks, *given], log)
    runner = WatchRunner(source, watch, log, sinks=workers, everywhere=tuple(names), state=state,
                         outbox=(doc or {}).get("outbox"), recorder=recorder, duration=args.duration,
                         drain_timeout=args.drain_timeout)
    described = "; ".join(f"{s.name}: {s.describe()}" for s in (*sinks, *given)) or "none"
    rules = rules_line(profile.watch.rules, fleet)
    unseen = "" if profile.is_sandbox else "; overflow: not published by AWS (no overflow events)"
    what = (f"the fleet of profile {profile.name} (every account × region × model in {', '.join(profile.regions)})" if fleet
            else f"profile {profile.name} ({profile.region})")
    log.write({"type": "watch", "event": "start", "profile": profile.name, "region": profile.region,
               **({"fleet": True, "regions": list(profile.regions)} if fleet else {}),
               "refresh_seconds": profile.refresh_seconds, "sinks": described, "rules": rules,
               "state": str(path) if path else None,
               "message": f"watching {what} every {profile.refresh_seconds:g} s; "
                          f"sinks: {described}; rules: {rules}{unseen}"})
    for note in filter(None, (warning, *(f"rule {n}: its parameters changed since the state was saved; its open "
                                         f"episodes start afresh" for n in watch.discarded))):
        log.write({"type": "watch", "event": "warning", "message": note})
    try:
        asyncio.run(runner.run())
    except OSError as e:  # the state file could not be written
        err(f"{e.filename or ''}: {e.strerror or e}")
        return EXIT_FAIL
    if runner.lost:
        print(f"tierconsole: warning: {runner.lost} alert{'s' if runner.lost != 1 else ''} not delivered and not "
              "kept for the next run (see the stop line); exit 3", file=sys.stderr)
        return EXIT_LOST
    return EXIT_OK
