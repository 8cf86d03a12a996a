"""The sandbox's access log file: one JSON line per request, rotated by size so it never grows without bound.

Rotation is the standard library's (:class:`logging.handlers.RotatingFileHandler`): when a line would take the
file past ``max_bytes`` it is renamed ``FILE.1`` (``FILE.1`` to ``FILE.2``, ...; ``backups`` files are kept, the
oldest dropped) and a new ``FILE`` begins. Every file is created 0600 (it names the account's models, buckets
and job ARNs), and a renamed file keeps its mode.
"""
from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

log = logging.getLogger("tierconsole.sandbox")


class _Handler(RotatingFileHandler):
    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return os.fdopen(fd, "a", encoding="utf-8")

    def handleError(self, record: logging.LogRecord) -> None:
        # Never a traceback on the sandbox's stderr: one warning for a log that cannot be written (disk full, ...).
        if not getattr(self, "_warned", False):
            self._warned = True
            log.warning("the access log %s could not be written; later lines may be missing", self.baseFilename)


class AccessLogFile:
    """An open access log: :meth:`write` appends one line, rotating first when the file would pass its size."""

    def __init__(self, path: Path, max_bytes: int, backups: int):
        # Opened at once (raises OSError: the caller names the file); rotation needs backups >= 1.
        self._handler = _Handler(str(path), maxBytes=max_bytes, backupCount=max(1, backups), encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(message)s"))

    def write(self, line: str) -> None:
        self._handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))

    def close(self) -> None:
        self._handler.close()
