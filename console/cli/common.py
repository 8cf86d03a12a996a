"""What every command shares: exit codes, the error line, running a command's coroutine, and the
operator session of the command's profile (:func:`session`)."""
from __future__ import annotations

import asyncio
import sys
from contextlib import asynccontextmanager

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


def err(msg: str) -> None:
    print(f"tierconsole: error: {msg}", file=sys.stderr)


@asynccontextmanager
async def session(args):
    """The started operator session of the command's profile
    (:func:`tierconsole.core.session.command_session`, the TUI's session concept); a throwaway in-process
    sandbox is said on stderr (what the command made is gone when it exits)."""
    from ..core.session import command_session  # noqa: PLC0415

    async with command_session(args, on_throwaway=lambda note: print(note, file=sys.stderr)) as operator:
        yield operator


def run(coro) -> int:
    """Run a command's coroutine: a bad profile is a usage error, a read-only refusal or an AWS SDK error that
    no command answered itself (a missing AWS profile, no credentials) a one-line failure, Ctrl-C 130."""
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from ..core.ops.guard import ReadOnlyError  # noqa: PLC0415

    try:
        return asyncio.run(coro)
    except ConfigError as e:
        err(str(e))
        return EXIT_USAGE
    except ReadOnlyError as e:
        err(str(e))
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        import botocore.exceptions as bx  # noqa: PLC0415 - only when a command failed

        if not isinstance(e, bx.BotoCoreError):
            raise
        err(str(e))
        return EXIT_FAIL
