"""`tierconsole sandbox`: the sandbox in the foreground, until Ctrl-C."""
from __future__ import annotations

import asyncio
import errno
import signal
import sys

from ..domain.catalog import ConfigError


def _print_banner(sandbox, out=sys.stdout) -> None:
    cfg = sandbox.config
    models = ", ".join(m.model_id for m in cfg.catalog.models)
    print(f"tierconsole sandbox — config {cfg.source}, scenario {sandbox.scenario_name}, "
          f"speed {sandbox.clock.speed:g}x", file=out)
    print(f"models: {models}", file=out)
    print(f"endpoint: {sandbox.endpoint}", file=out)
    print("# paste these to aim any AWS client (CLI, boto3, aiobotocore, SDKs) at the sandbox:", file=out)
    print(f"export AWS_ENDPOINT_URL={sandbox.endpoint}", file=out)
    print(f"export AWS_REGION={cfg.region} AWS_DEFAULT_REGION={cfg.region}", file=out)
    print("export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox", file=out)
    print("# Ctrl-C stops the sandbox.", file=out, flush=True)


def serve(args) -> int:
    from .app import Sandbox  # noqa: PLC0415
    from .config import load_sandbox_config  # noqa: PLC0415

    try:
        config = load_sandbox_config(args.config)
        keys = None
        if args.auth:
            from .auth import load_keys  # noqa: PLC0415

            keys = load_keys(args.auth)
        scenario = args.scenario if args.scenario is not None else config.scenario
        sandbox = Sandbox(config, speed=args.speed, scenario=scenario, access_log=args.access_log,
                          faults=args.faults, auth_keys=keys)
    except ConfigError as err:
        print(f"tierconsole sandbox: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as err:  # includes a bad --faults SPEC
        print(f"tierconsole sandbox: error: {err}", file=sys.stderr)
        return 2

    async def run() -> int:
        try:
            await sandbox.start(args.host, args.port)
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
                reason = {errno.EADDRINUSE: "is already in use", errno.EACCES: "needs privileges",
                          errno.EADDRNOTAVAIL: "is not an address of this machine"}[err.errno]
                print(f"tierconsole sandbox: error: {args.host}:{args.port} {reason} "
                      f"(choose another with --port, or --port 0 for a free one)", file=sys.stderr)
                return 2
            raise
        except (ValueError, ConfigError) as err:
            print(f"tierconsole sandbox: error: {err}", file=sys.stderr)
            await sandbox.stop()
            return 2
        _print_banner(sandbox)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
                pass
        await stop.wait()
        print("stopping sandbox…", file=sys.stderr, flush=True)
        await sandbox.stop()
        return 0

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:  # pragma: no cover - signal handler normally wins
        return 0
