"""Launch the live console: resolve the profile, then hand a live source to the Textual app.

Only the profile is read before the first frame; the AWS stack, pandas and the sandbox are
imported and started by the app's worker after it has drawn.
"""
from __future__ import annotations

import sys


def run_tui(args) -> int:
    from .domain.catalog import ConfigError  # noqa: PLC0415
    from .profile_loader import load_profile  # noqa: PLC0415

    try:
        profile = load_profile(args.profile)
    except ConfigError as err:
        print(f"tierconsole: error: {err}", file=sys.stderr)
        return 2
    from .app import TierConsoleApp  # noqa: PLC0415
    from .live import LiveSource  # noqa: PLC0415
    from .theming import builtin_themes  # noqa: PLC0415

    if args.theme and args.theme not in builtin_themes():
        print(f"tierconsole: error: --theme: unknown theme {args.theme!r}; "
              f"choose from {', '.join(sorted(builtin_themes()))}", file=sys.stderr)
        return 2
    source = LiveSource(profile, endpoint_url=args.endpoint_url, region=args.region, read_only=args.read_only)
    if getattr(args, "record", None):  # --record FILE (its modules load only when asked for)
        from .record_cli import recording_source  # noqa: PLC0415
        from .recording import RecordingError  # noqa: PLC0415

        try:
            source = recording_source(source, args)
        except RecordingError as err:
            print(f"tierconsole: error: --record: {err}", file=sys.stderr)
            return 2
    app = TierConsoleApp(theme=args.theme, source=source)
    try:
        app.run()
    finally:
        if app.source is not None and app.source.sandbox_thread is not None:
            app.source.sandbox_thread.stop()
    return 0
