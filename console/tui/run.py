"""Launch the live console: resolve the profile, then hand a live source to the Textual app.

Only the profile is read before the first frame; the AWS stack, pandas and the sandbox are
imported and started by the app's worker after it has drawn.

The garbage collector is off while Textual and the console are imported and the app is built:
those objects (modules, classes, the stylesheet, the widgets) live as long as the process, so
the collections that ran among them (one full one, and ~80 young ones) could free nothing and
delayed the first frame. They are then frozen (``gc.freeze``: never scanned again, so later
collections are cheaper too, a steady cost over SSH) and the collector runs as usual.
"""
from __future__ import annotations

import gc
import sys

from ..core import dataclass_cache


def run_tui(args) -> int:
    gc.disable()
    try:
        app = _build_app(args)
    finally:
        gc.freeze()
        gc.enable()
    dataclass_cache.save()  # the classes the first frame needs, for the next launch (written only when new)
    if isinstance(app, int):
        return app
    try:
        app.run()
    finally:
        if app.source is not None and app.source.sandbox_thread is not None:
            app.source.sandbox_thread.stop()
        notice = getattr(app.source, "notice", None) if app.source is not None else None
        if notice:
            print(f"tierconsole: {notice}", file=sys.stderr)
        _say_kept_sandboxes()
    return 1 if app.return_code else 0  # the app ended on an error (Textual has shown it): never exit 0 then


def _build_app(args):
    """The app for ``args``, or the exit code of a profile or ``--record`` error (said on stderr)."""
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from ..core.source import LiveSource  # noqa: PLC0415
    from .keymap import load_keymap  # noqa: PLC0415

    try:
        source = LiveSource.from_args(args, sandbox="keep")
        keymap = load_keymap()
    except ConfigError as err:
        print(f"tierconsole: error: {err}", file=sys.stderr)
        return 2
    from .app import TierConsoleApp  # noqa: PLC0415

    if getattr(args, "record", None):  # --record FILE (its modules load only when asked for)
        from ..recording.capture import recording_source  # noqa: PLC0415
        from ..recording.format import RecordingError  # noqa: PLC0415

        try:
            source = recording_source(source, args)
        except RecordingError as err:
            print(f"tierconsole: error: --record: {err}", file=sys.stderr)
            return 2
    return TierConsoleApp(theme=args.theme, source=source, keymap=keymap)


def _say_kept_sandboxes() -> None:
    """The console started a background sandbox and leaves it for later commands: say where, and how to stop it."""
    from ..sandbox import daemon  # noqa: PLC0415 - stdlib only

    for state in daemon.started_here:
        running = daemon.read_state()
        if running is not None and running.pid == state.pid:
            print(f"tierconsole: the sandbox keeps running at {state.describe()} for later commands "
                  "(tierconsole status, batch, prompt…); `tierconsole sandbox stop` stops it", file=sys.stderr)
