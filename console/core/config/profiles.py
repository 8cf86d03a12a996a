"""Finding and loading console profiles.

Where profiles come from, later ones overriding earlier ones of the same name:

1. ``built-in``: the ``profiles/`` shipped inside the package (``sandbox``, ``aws-template``);
2. ``project``: ``./profiles/*.yaml`` in the current directory (a checkout of this repo);
3. ``user``: ``$XDG_CONFIG_HOME/tierconsole/profiles/*.yaml`` (default ``~/.config``).

Which profile is used: ``--profile NAME`` > ``$TIERCONSOLE_PROFILE`` > the ``default: true``
profile > ``sandbox``.
"""
from __future__ import annotations

import errno
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .loader import load_yaml, locate
from .paths import package_folder, user_config_dir
from ..domain.catalog import ConfigError, show
from ..domain.profile import Profile, parse_profile

FALLBACK = "sandbox"
#: A profile is a page of YAML; anything this large is not one, and is not read whole.
MAX_PROFILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ProfileEntry:
    name: str
    source: str
    origin: str
    is_default: bool = False
    error: ConfigError | None = None
    skipped: bool = False  # not a regular file (a FIFO, a device, a symlink loop...): listed, never read


class _Candidate(NamedTuple):
    name: str
    source: str
    origin: str
    text: str | None  # None: read by load_yaml (built-in profiles come as text)
    skipped: ConfigError | None = None  # why a folder entry is not read at all
    error: ConfigError | None = None  # why a file could not be read


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` must not be opened as a profile (following symlinks), or None for a regular file."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink():
            return ("a symbolic link loop" if exc.errno == errno.ELOOP else
                    "a symbolic link to a missing file" if exc.errno == errno.ENOENT else
                    f"a symbolic link that cannot be followed ({exc.strerror})")
        return None  # vanished or unreadable: reported by the read
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _read_profile(path: Path) -> str:
    """The text of a profile file: opened without blocking, checked to be a regular file once open
    (a FIFO swapped in after the check is not waited on), read up to :data:`MAX_PROFILE_BYTES`."""
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError("", f"cannot read file: {exc.strerror or exc}", source=source) from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError("", "skipped: not a regular file (never read)", source=source)
        if info.st_size > MAX_PROFILE_BYTES:
            raise ConfigError("", f"larger than {MAX_PROFILE_BYTES // 1024:,} KiB ({info.st_size:,} bytes): "
                                  "not a profile, not read", source=source)
        raw = f.read(MAX_PROFILE_BYTES + 1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("", f"not UTF-8 text (byte {exc.start})", source=source) from None


def _candidates(cwd: Path | None = None) -> list[_Candidate]:
    """Every profile file, in override order; folder entries that are not regular files are skipped."""
    out = []
    pkg = package_folder("tierconsole.profiles")
    for item in sorted(pkg.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            out.append(_Candidate(item.name[:-5], f"<package>/profiles/{item.name}", "built-in", item.read_text()))
    for origin, folder in (("project", (cwd or Path.cwd()) / "profiles"), ("user", user_config_dir() / "profiles")):
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                name, source = path.stem, str(path)
                why = _not_a_file(path)
                if why is not None:
                    out.append(_Candidate(name, source, origin, None,
                                          skipped=ConfigError("", f"skipped: {why}, not a profile file (never read)",
                                                              source=source)))
                    continue
                try:
                    out.append(_Candidate(name, source, origin, _read_profile(path)))
                except ConfigError as err:
                    out.append(_Candidate(name, source, origin, None, error=err))
    return out


def _load(name: str, source: str, origin: str, text: str | None, doc: Any = None) -> Profile:
    """Parse a profile, its ``sandbox:`` section included (checked as the sandbox checks it when it starts),
    so that ``tierconsole profiles`` reports what would fail on use, in the same words."""
    doc = load_yaml(source, text, cache=True) if doc is None else doc
    try:
        profile = parse_profile(doc, default_name=name, source=source, origin=origin)
    except ConfigError as err:
        raise locate(err, doc, source) from None
    # A section with content, or any sandbox profile without an endpoint: the console starts a sandbox from that
    # section on use (an empty one serves only a profile aimed at a running sandbox by its endpoint_url).
    if profile.sandbox or (profile.is_sandbox and profile.endpoint_url is None):
        from ...sandbox.config import parse_sandbox_config  # noqa: PLC0415 - light: the loader and the domain

        parse_sandbox_config(doc, source)  # raises a ConfigError with file, line and field
    return profile


def discover(cwd: Path | None = None) -> dict[str, ProfileEntry]:
    """Every profile by name (the last definition wins), with broken ones carrying their error.

    A folder entry that is not a regular file is listed under its path (so that it never hides a
    profile of the same name) with ``skipped`` set, and never opened."""
    return _discover(_candidates(cwd))


def _discover(candidates: list[_Candidate], loaded: dict[str, Profile] | None = None) -> dict[str, ProfileEntry]:
    """The entries of ``candidates``; each profile parsed is also kept in ``loaded`` (by source), if given."""
    found: dict[str, ProfileEntry] = {}
    for c in candidates:
        if c.skipped is not None:
            found[c.source] = ProfileEntry(c.name, c.source, c.origin, error=c.skipped, skipped=True)
            continue
        doc = None
        try:
            if c.error is not None:
                raise c.error
            doc = load_yaml(c.source, c.text, cache=True)  # parsed once, for the profile and its default flag
            prof = _load(c.name, c.source, c.origin, c.text, doc)
            if loaded is not None:
                loaded[c.source] = prof
            found[prof.name] = ProfileEntry(prof.name, c.source, c.origin,
                                            isinstance(doc, dict) and doc.get("default") is True)
        except ConfigError as err:
            found[c.name] = ProfileEntry(c.name, c.source, c.origin, _says_default(doc, c.text), error=err)
    return found


_DEFAULT_LINE = re.compile(r"^default:\s*(true|yes|on)\s*(#.*)?$", re.MULTILINE | re.IGNORECASE)


def _says_default(doc: Any, text: str | None) -> bool:
    """Whether a profile that cannot be loaded says ``default: true`` (in its parsed document, or in a line of a
    file YAML could not parse): the operator's default must fail loudly, never give way to another profile."""
    if isinstance(doc, dict):
        return doc.get("default") is True
    return bool(text and _DEFAULT_LINE.search(text))


def default_conflict(entries: dict[str, ProfileEntry]) -> ConfigError | None:
    """More than one profile saying ``default: true``: an error naming every file (never silently the later one).
    Raised on use when no profile is named; listed by ``tierconsole profiles``."""
    defaults = [e for e in entries.values() if e.is_default and not e.skipped]
    if len(defaults) < 2:
        return None
    files = ", ".join(f"{e.source} ({e.name})" for e in defaults)
    return ConfigError("default", f"{len(defaults)} profiles say default: true: {files}; keep it in one of them, "
                                  "or name the profile with --profile or $TIERCONSOLE_PROFILE")


_warned: set[str] = set()


def _warn_skipped(entries: dict[str, ProfileEntry]) -> None:
    """One line on stderr per skipped folder entry, once per process (``tierconsole profiles`` lists them)."""
    for e in entries.values():
        if e.skipped and e.source not in _warned:
            _warned.add(e.source)
            print(f"tierconsole: warning: {e.error}", file=sys.stderr)


def load_profile(name: str | None = None, cwd: Path | None = None) -> Profile:
    """The profile to use, by the documented precedence. Raises :class:`ConfigError`."""
    wanted = name or os.environ.get("TIERCONSOLE_PROFILE") or None
    candidates = _candidates(cwd)
    loaded: dict[str, Profile] = {}
    entries = _discover(candidates, loaded)
    _warn_skipped(entries)
    entries = {k: e for k, e in entries.items() if not e.skipped}
    if wanted is None:
        clash = default_conflict(entries)
        if clash is not None:
            raise clash
        defaults = [e for e in entries.values() if e.is_default]
        wanted = defaults[-1].name if defaults else FALLBACK  # a broken default is raised below, with its file:line
    entry = entries.get(wanted)
    if entry is None:
        known = ", ".join(sorted(entries)) or "none"
        if "/" in wanted or wanted.endswith((".yaml", ".yml")):  # a path: profiles are found by name
            raise ConfigError("", f"--profile (or TIERCONSOLE_PROFILE) takes a profile's name, not a file: {show(wanted)}; put the file in "
                                  f"{user_config_dir() / 'profiles'} (or ./profiles) and give its name "
                                  f"(known: {known}; see `tierconsole profiles`)")
        raise ConfigError("", f"no profile named {show(wanted)} (known: {known}; see `tierconsole profiles`)")
    if entry.error is not None:
        raise entry.error
    if entry.source in loaded:  # parsed by _discover from the text read once: not parsed a second time
        return loaded[entry.source]
    for c in reversed(candidates):
        if c.source == entry.source and c.skipped is None and c.error is None:
            return _load(c.name, c.source, c.origin, c.text)
    raise ConfigError("", f"profile {show(wanted)} vanished while loading")  # pragma: no cover
