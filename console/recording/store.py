"""The recording's SQLite file: its tables, and the checks that a file is a (whole) recording this
version reads."""
from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .format import APPLICATION_ID, FORMAT, FORMAT_VERSION, RecordingError

# --------------------------------------------------------------------------------------- files
_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS frames (seq INTEGER PRIMARY KEY, time REAL NOT NULL, key INTEGER NOT NULL,
                                   data BLOB NOT NULL);
"""
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_header(path: Path) -> None:
    """Reject what is plainly not a (whole) SQLite file before SQLite sees it."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the open; a device is no recording
            raise RecordingError(path, "not a regular file (a FIFO, a device or a socket), not a recording")
        size = info.st_size
        with path.open("rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        raise RecordingError(path, "no such file") from None
    except IsADirectoryError:
        raise RecordingError(path, "is a directory, not a recording") from None
    except OSError as e:
        raise RecordingError(path, f"cannot read: {e.strerror or e}") from None
    if not header.startswith(_SQLITE_MAGIC):
        raise RecordingError(path, "not a tierconsole recording (not an SQLite file)" if size else
                             "not a tierconsole recording (empty file)")
    if len(header) < 100:
        raise RecordingError(path, f"truncated ({size} bytes)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the in-header size is only meaningful then
    wal = Path(f"{path}-wal")
    if valid and pages and size < pages * page_size and not (wal.exists() and wal.stat().st_size):
        raise RecordingError(path, f"truncated ({size:,} bytes; the header says {pages * page_size:,})")


def _read_meta(conn: sqlite3.Connection) -> dict[str, Any]:
    """The meta table, each value JSON text; a :class:`ValueError` naming the entry and what is wrong
    with it, in words an operator reads (never Python's exception text)."""
    meta: dict[str, Any] = {}
    for key, value in conn.execute("SELECT key, value FROM meta"):
        entry = f"the meta entry {str(key)[:40]!r}"
        if value is None:
            raise ValueError(f"{entry} is empty")
        if not isinstance(value, (str, bytes)):
            raise ValueError(f"{entry} holds a number where the recorder writes text")
        try:
            meta[key] = json.loads(value)
        except UnicodeDecodeError:
            raise ValueError(f"{entry} is not text (bytes that are not UTF-8)") from None
        except json.JSONDecodeError:
            raise ValueError(f"{entry} is not the JSON the recorder writes (cut or overwritten)") from None
        except RecursionError:
            raise ValueError(f"{entry} is nested too deeply to be the recorder's") from None
    return meta


def _schema(meta: Mapping[str, Any], path: Path) -> dict[str, list[str]]:
    """The recorded field names of each row type, checked to be what a recorder writes."""
    schema = meta.get("schema") or {}
    if type(schema) is not dict or not all(type(names) is list and all(type(n) is str for n in names)
                                           for names in schema.values()):
        raise RecordingError(path, "damaged: the schema in its meta table is not readable")
    return schema


def _check_identity(conn: sqlite3.Connection, path: Path) -> dict[str, Any]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if app_id != APPLICATION_ID or not {"meta", "frames"} <= tables:
        raise RecordingError(path, "not a tierconsole recording (an SQLite database of another kind)")
    try:
        meta = _read_meta(conn)
    except ValueError as e:
        raise RecordingError(path, f"damaged: {e}; the recording's description (meta) cannot be read") from None
    if meta.get("format") != FORMAT:
        raise RecordingError(path, "not a tierconsole recording (no format marker)")
    version = meta.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RecordingError(path, f"recorded in format version {version}; this tierconsole reads up to "
                                   f"{FORMAT_VERSION} (upgrade tierconsole)")
    return meta


def _profile_meta(profile: Any) -> dict[str, Any]:
    """What the recording says about its profile: names only, never credentials."""
    if profile is None:
        return {"profile": "", "region": "", "is_sandbox": False}
    if isinstance(profile, str):
        return {"profile": profile, "region": "", "is_sandbox": False}
    return {"profile": str(getattr(profile, "name", "")), "region": str(getattr(profile, "region", "")),
            "is_sandbox": bool(getattr(profile, "is_sandbox", False))}
