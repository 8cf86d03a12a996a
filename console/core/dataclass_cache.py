"""The compiled methods of the console's own dataclasses, kept from one launch to the next.

Creating a dataclass on Python 3.11 writes the source of its ``__init__``, ``__repr__``, ``__eq__`` (and, frozen,
``__setattr__``, ``__delattr__``, ``__hash__``) and compiles each: ~0.5 ms a class, ~20 ms for the 35 classes
on the console's way to its first frame, a fifth of what it adds to a bare Textual app (bench/first_frame.py,
issue 13). Python keeps a module's bytecode in ``__pycache__`` but compiles these again on every launch.

:func:`install` (called first thing by the command line) has :mod:`dataclasses` take the code of those methods
from ``$XDG_CACHE_HOME/tierconsole/dataclasses/<bytecode magic>.marshal`` when its cache holds the very source it
would compile, and compile it otherwise (:func:`save` keeps what was compiled for the next launch). The code
is what ``exec`` would have compiled from that source (the same flags, the same file name), and it runs the
same way, with the same globals and names: a cached class is the class. Only classes of ``tierconsole``
modules go through the cache; any other module's (Textual's, the standard library's) are compiled exactly as
before. An unreadable or damaged cache is no cache; the file is 0600 in the 0700 cache folder (it holds code
the console runs, as ``__pycache__`` does).
"""
from __future__ import annotations

import dataclasses
import marshal
import os
from importlib.util import MAGIC_NUMBER
from types import CodeType
from typing import Any

from .config.paths import user_cache_dir

#: Past this many entries (sources of every version of the console run since), the file keeps only the
#: entries this process used.
MAX_ENTRIES = 2000
_PACKAGE = __name__.split(".")[0] + "."  # "tierconsole."

_codes: dict[str, CodeType] = {}
_used: set[str] = set()
compiled = 0  # methods of the console's classes compiled by this process (not found in the cache)
_saved = 0
_exec = exec


def _path() -> str:
    return str(user_cache_dir() / "dataclasses" / f"{MAGIC_NUMBER.hex()}.marshal")


def _cached_exec(source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
    """``exec`` as :mod:`dataclasses` calls it, with the code of a ``tierconsole`` class's method from the cache."""
    global compiled
    if globals is None:  # what exec would use: the globals of its caller, the dataclasses module
        globals = vars(dataclasses)
    if not isinstance(source, str) or not str(globals.get("__name__", "")).startswith(_PACKAGE):
        _exec(source, globals, locals)
        return
    code = _codes.get(source)
    if code is None:
        # dont_inherit: the flags of dataclasses' own `exec(txt, ...)` (no future imports), not this module's
        code = _codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
        compiled += 1
    _used.add(source)
    _exec(code, globals, locals)


def install() -> None:
    """Have :mod:`dataclasses` use the cache for the console's classes created from now on (once per process)."""
    if getattr(dataclasses, "exec", None) is _cached_exec:
        return
    try:
        with open(_path(), "rb") as f:
            loaded = marshal.loads(f.read())
        if isinstance(loaded, dict):
            _codes.update((k, v) for k, v in loaded.items() if isinstance(k, str) and isinstance(v, CodeType))
    except (OSError, EOFError, ValueError, TypeError):  # none yet, or damaged: compile as usual
        pass
    dataclasses.exec = _cached_exec  # type: ignore[attr-defined]  # looked up by dataclasses before builtins


def save() -> None:
    """Keep the code compiled in this process for the next launch (quietly not, if the folder is not writable)."""
    global _saved
    if compiled == _saved:
        return
    _saved = compiled
    keep = _codes if len(_codes) <= MAX_ENTRIES else {k: v for k, v in _codes.items() if k in _used}
    path = _path()
    tmp = f"{path}.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps(keep))
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
