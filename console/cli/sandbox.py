"""``tierconsole sandbox [start|stop|status]``: the embedded Bedrock sandbox, in the foreground or in the
background. The sandbox itself is :mod:`tierconsole.sandbox`; this is its command line."""
from __future__ import annotations

import sys

from . import options
from .groups import SANDBOX_GROUP
from .common import EXIT_USAGE


def add_parser(sub) -> None:
    sb = sub.add_parser(
        "sandbox",
        help="run the embedded Bedrock sandbox (foreground, or start|stop|status in the background)",
        description="Run the embedded Bedrock sandbox: one loopback endpoint speaking bedrock-runtime, "
                    "bedrock, S3, STS, CloudWatch and Service Quotas with tier semantics. "
                    "Aim any AWS client at it with AWS_ENDPOINT_URL. With no ACTION it runs in the foreground "
                    "until Ctrl-C; `start` runs one in the background (one per user) that the sandbox profile "
                    "and every later command attach to, `stop` stops it, `status` tells whether it runs.",
    )
    options.add_group(sb, SANDBOX_GROUP, "sandbox")
    ssub = sb.add_subparsers(dest="sandbox_command", metavar="ACTION")
    start = ssub.add_parser("start", help="start the background sandbox (returns once it answers)",
                            description="Start the sandbox in the background, detached from this terminal, and "
                                        "return once its endpoint answers. Its endpoint and pid go in a state file "
                                        "(0600) under $XDG_RUNTIME_DIR/tierconsole/ (else $XDG_STATE_HOME/"
                                        "tierconsole/). A second start says where the running one is.")
    options.add_group(start, SANDBOX_GROUP, "sandbox start")
    ssub.add_parser("stop", help="stop the background sandbox", description="Stop the background sandbox "
                    "(SIGTERM, then wait for it to exit).")
    st = ssub.add_parser("status", help="whether the background sandbox runs, and where",
                         description="Print the background sandbox's endpoint and pid; exit 3 when none runs.")
    st.add_argument("--json", action="store_true", help="print JSON")


def cmd_sandbox(args) -> int:
    from ..sandbox import commands  # noqa: PLC0415 - stdlib only

    if args.sandbox_command in ("stop", "status"):
        return commands.cmd_stop(args) if args.sandbox_command == "stop" else commands.cmd_status(args)
    failed = _sandbox_profile(args)
    if failed is not None:
        return failed
    if args.sandbox_command == "start":
        return commands.cmd_start(args)
    from ..sandbox.serve import serve  # noqa: PLC0415

    return serve(args)


def _sandbox_profile(args) -> int | None:
    """``sandbox --profile NAME``: that console profile's file (its ``sandbox:`` section) is the config.
    Returns an exit code when the profile cannot configure a sandbox, else None."""
    if args.profile is None:
        return None
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from ..core.config.profiles import load_profile  # noqa: PLC0415

    try:
        profile = load_profile(args.profile)
    except ConfigError as e:
        print(f"tierconsole sandbox: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not profile.is_sandbox:
        print(f"tierconsole sandbox: error: --profile: profile {profile.name!r} ({profile.source}) has no "
              "'sandbox' section to configure a sandbox with", file=sys.stderr)
        return EXIT_USAGE
    from ..sandbox.attach import _config_of  # noqa: PLC0415

    args.config = _config_of(profile)  # None: the built-in sandbox profile, the sandbox's default config
    return None
