"""`tierconsole sandbox`: the sandbox in the foreground, until Ctrl-C."""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import re
import signal
import socket
import sys

from ..core.domain.catalog import ConfigError

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")


def check_host(host: str) -> tuple[str | None, bool]:
    """(what is wrong with ``--host``, or None; whether every address it names is loopback)."""
    try:
        return None, ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    if re.fullmatch(r"[0-9.]*", host) or not _HOSTNAME.fullmatch(host):  # 999.1.1.1 is no name either
        return f"--host {host!r} is not an IP address or a host name", False
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return f"--host {host!r} does not resolve to an address ({getattr(exc, 'strerror', None) or exc})", False
    return None, all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def client_exports(endpoint: str, region: str, key_ids: list[str] | None, auth_file: str | None) -> list[str]:
    """The lines that aim any AWS client at a sandbox (the foreground banner and ``sandbox start`` print
    them). ``key_ids``: the ``--auth`` keys (None: auth off, any credentials); a secret is never shown."""
    lines = [f"export AWS_ENDPOINT_URL={endpoint}", f"export AWS_REGION={region} AWS_DEFAULT_REGION={region}"]
    if key_ids is None:
        return lines + ["export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox"]
    if not key_ids:  # the file changed since the sandbox read it
        return lines + [f"# requests must be signed with a key of {auth_file or 'the --auth file'}"]
    first, *others = key_ids
    lines += [f"export AWS_ACCESS_KEY_ID={first}",
              f"# and AWS_SECRET_ACCESS_KEY: the secret of {first} in {auth_file or 'the --auth file'} (not shown)"]
    if others:
        lines.append(f"# --auth also accepts: {', '.join(others)}")
    return lines


def _print_banner(sandbox, out=sys.stdout, auth_file: str | None = None) -> None:
    cfg = sandbox.config
    models = ", ".join(m.model_id for m in cfg.catalog.models)
    print(f"tierconsole sandbox — config {cfg.source}, scenario {sandbox.scenario_name}, "
          f"speed {sandbox.clock.speed:g}x", file=out)
    print(f"models: {models}", file=out)
    print(f"endpoint: {sandbox.endpoint}", file=out)
    if cfg.fleet is not None:
        print(f"fleet: account {cfg.account_id} ({cfg.fleet.default_name}) and {len(cfg.fleet.accounts)} source "
              f"accounts in {', '.join(cfg.fleet.regions)}; the key sandbox-<account id> acts in that account",
              file=out)
    print("# paste these to aim any AWS client (CLI, boto3, aiobotocore, SDKs) at the sandbox:", file=out)
    key_ids = list(sandbox.verifier.key_ids) if sandbox.verifier is not None else None
    for line in client_exports(sandbox.endpoint, cfg.region, key_ids, auth_file):
        print(line, file=out)
    print("# Ctrl-C stops the sandbox.", file=out, flush=True)


def _warn_if_exposed(sandbox, host: str, loopback: bool) -> None:
    if loopback or sandbox.verifier is not None:
        return
    print(f"tierconsole sandbox: warning: --host {host} is not loopback and --auth is off: anyone who can reach "
          f"port {sandbox.port} can call this sandbox with any credentials (read and write its S3 buckets, submit "
          "batch jobs, use its quotas). Add --auth FILE, or use --host 127.0.0.1.", file=sys.stderr, flush=True)


def serve(args) -> int:
    from . import identity  # noqa: PLC0415
    from .app import Sandbox  # noqa: PLC0415
    from .config import load_sandbox_config  # noqa: PLC0415

    host_problem, loopback = check_host(args.host)
    if host_problem:
        print(f"tierconsole sandbox: error: {host_problem}", file=sys.stderr)
        return 2
    try:
        config = load_sandbox_config(args.config)
        keys = None
        if args.auth:
            from .auth import load_keys  # noqa: PLC0415

            keys = load_keys(args.auth)
        scenario = args.scenario if args.scenario is not None else config.scenario
        sandbox = Sandbox(config, speed=args.speed, scenario=scenario, access_log=args.access_log,
                          faults=args.faults, auth_keys=keys, instance=os.environ.get(identity.ENV) or None)
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
            else:
                print(f"tierconsole sandbox: error: cannot listen on --host {args.host} --port {args.port}: "
                      f"{err.strerror or err}", file=sys.stderr)
            await sandbox.stop()
            return 2
        except (ValueError, ConfigError) as err:
            print(f"tierconsole sandbox: error: {err}", file=sys.stderr)
            await sandbox.stop()
            return 2
        _print_banner(sandbox, auth_file=args.auth)
        _warn_if_exposed(sandbox, args.host, loopback)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
                pass
        await stop.wait()
        # On a terminal, Ctrl-C echoes "^C" with no newline: start a line of our own.
        print(f"{chr(10) if sys.stderr.isatty() else ''}stopping sandbox…", file=sys.stderr, flush=True)
        await sandbox.stop()
        return 0

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:  # pragma: no cover - signal handler normally wins
        return 0
