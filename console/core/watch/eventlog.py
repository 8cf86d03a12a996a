"""What ``tierconsole watch`` writes: one line per change event, alert, sink outcome and start/stop.

Human lines on a terminal; JSON lines (one object each, ``type`` first) with ``--json`` or when stdout is not
a terminal (a container, a pipe); ``--log FILE`` always JSON lines, created 0600 and rotated by size
(``FILE.1`` … ``FILE.N``: at most ``max_bytes × (backups + 1)`` on disk). Every line goes through the
:class:`Redactor`: a sink's secret (a webhook URL, its token) is never written anywhere.
"""
from __future__ import annotations

import io
import json
import logging
import logging.handlers
import os
import sys
import time
from datetime import datetime, timezone
from typing import IO, Any, Iterable

DEFAULT_LOG_BYTES = 10 * 1024 * 1024
DEFAULT_LOG_BACKUPS = 3
_MARKS = {"start": "▲ START ", "end": "▼ END   ", "change": "• CHANGE"}


class Redactor:
    """Replaces every known secret (and its URL-encoded form) with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets: list[str] = []
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        from urllib.parse import quote, urlsplit  # noqa: PLC0415 - standard library

        if not secret or len(secret) < 6:
            return
        found = {secret, quote(secret, safe="")}
        parts = urlsplit(secret) if "://" in secret else None
        if parts is not None:  # the path and query of a URL hold its token: hide them on their own too
            found |= {p for p in (parts.path, parts.query, parts.password or "") if len(p) >= 6}
        self._secrets = sorted(set(self._secrets) | found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self._secrets:
            if s in text:
                text = text.replace(s, "***")
        return text


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    """A size-rotated file created 0600 (rotated files keep the mode: they are renamed)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o600)
        os.chmod(self.baseFilename, 0o600)
        return open(fd, "a", encoding="utf-8")


class EventLog:
    def __init__(self, *, stream: IO[str] | None = None, json_lines: bool | None = None, path: str | None = None,
                 max_bytes: int = DEFAULT_LOG_BYTES, backups: int = DEFAULT_LOG_BACKUPS,
                 redact: Redactor | None = None, quiet: bool = False):
        self.stream = None if quiet else (stream or sys.stdout)
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.json_lines = (not isatty()) if json_lines is None else json_lines
        self.redact = redact or Redactor()
        self._file: _PrivateRotatingHandler | None = None
        if path is not None:
            self._file = _PrivateRotatingHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
            self._file.setFormatter(logging.Formatter("%(message)s"))
        self.lines = 0
        self.data_time: str | None = None  # the last refresh's data time: the time of lines with none of their own

    def write(self, doc: dict[str, Any]) -> None:
        doc = {"type": doc.get("type"), **doc, "logged_at": iso(time.time())}
        if doc.get("data_time") is None and self.data_time is not None:  # a sink outcome, the stop line
            doc["data_time"] = self.data_time
        line = self.redact(json.dumps(doc, ensure_ascii=False, default=str))
        if self._file is not None:
            self._file.emit(logging.makeLogRecord({"msg": line, "args": None}))
        if self.stream is not None:
            text = line if self.json_lines else self.redact(human(doc))
            try:
                self.stream.write(text + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):  # the reader went away: the log file still has it
                self.stream = None
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def human(doc: dict[str, Any]) -> str:
    """One line for a person: ``2026-11-30T03:12:04Z ▲ START  quota_over      Amazon Nova Lite TPM 93% ≥ 80%
    (ep-3f2a9c12ab34)``. Its time is the data's (the sandbox's clock on a sandbox); a line before the first
    refresh has none, so it carries the wall clock and says so."""
    kind = doc.get("type")
    when = doc.get("data_time") or f"{doc.get('logged_at') or ''} (wall clock)"
    if kind == "event":
        began, first = iso(doc.get("since")) if doc["phase"] == "start" else None, ""
        if began and began != doc.get("data_time"):  # a storm starts once its first minute is judged, later
            word = "first minute" if doc["kind"] in ("throttle_storm", "error_storm") else "since"
            first = f", {word} {began[11:]}"
        return (f"{when} {_MARKS.get(doc['phase'], doc['phase'])} {doc['kind']:<15} {doc['summary']}  "
                f"({doc['episode']}, {doc['source']}{first})")
    if kind == "alert":
        event = doc.get("event", {})
        to = ", ".join(doc.get("to") or []) or "no sink"
        return f"{when} ⚑ {doc['outcome'].upper():<8} {doc['rule']} [{doc['severity']}] → {to}: {event.get('summary')}"
    if kind == "sink" and doc.get("outcome") == "retrying":
        return (f"{when} ✉ {doc['sink']}: retrying {doc.get('alert_id', '')} (attempt {doc['attempt']}/"
                f"{doc['max_attempts']} failed, next try in {doc['retry_in_s']:g} s): {doc.get('error', '')}")
    if kind == "sink":
        extra = f" after {doc['attempts']} attempts" if doc.get("attempts", 1) > 1 else ""
        why = f": {doc['error']}" if doc.get("error") else ""
        return f"{when} ✉ {doc['sink']}: {doc['outcome']} {doc.get('alert_id', '')}{extra}{why}"
    return f"{when} watch: {doc.get('message', '')}"
