"""``tierconsole profiles``: the console profiles and where each comes from."""
from __future__ import annotations

import sys


def add_parser(sub) -> None:
    pr = sub.add_parser("profiles", help="list the console profiles and where each comes from",
                        description="List console profiles: built-in, ./profiles/ and "
                                    "$XDG_CONFIG_HOME/tierconsole/profiles/, later ones overriding earlier ones.")
    pr.add_argument("--json", action="store_true", help="print JSON")


def cmd_profiles(args) -> int:
    import json  # noqa: PLC0415

    from ..core.config.profiles import default_conflict, discover  # noqa: PLC0415
    from ..core.config.paths import user_config_dir  # noqa: PLC0415

    entries = discover()
    clash = default_conflict(entries)
    if args.json:
        print(json.dumps([{"name": e.name, "origin": e.origin, "source": e.source, "default": e.is_default,
                           "error": str(e.error) if e.error else None} for e in entries.values()], indent=2))
        if clash is not None:
            print(f"tierconsole: error: {clash}", file=sys.stderr)
    else:
        width = max((len(e.name) for e in entries.values()), default=4)
        for e in entries.values():
            mark = " (default)" if e.is_default else ""
            status = f"  ERROR: {e.error}" if e.error else ""
            print(f"{e.name:<{width}}  {e.origin:<8}  {e.source}{mark}{status}")
        if clash is not None:
            print(f"ERROR: {clash}")
        print(f"# user profiles go in {user_config_dir() / 'profiles'}")
    return 1 if clash is not None or any(e.error for e in entries.values()) else 0
