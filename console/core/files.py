"""Files the console writes for the operator (reports, recordings): private, whole, and refused early
with a clear reason when the path cannot be written."""
from __future__ import annotations

import os
from pathlib import Path


def output_path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a file cannot be created at ``path`` (``no such directory``, ``is a directory``...), or None.
    Checked before any work is done, so that a typo costs nothing; the write itself may still fail."""
    p = Path(path)
    if p.is_dir():
        return "is a directory"
    parent = p.parent
    if not parent.exists():
        return f"no such directory ({parent})" if str(parent) not in ("", ".") else "no such directory"
    if not parent.is_dir():
        return f"is not a directory ({parent})"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write in {parent} (permission denied)"
    return None


def write_private(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (0600), never half-written: a temporary
    file beside it, created 0600, then renamed over it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Make ``path`` a directory, creating each missing folder 0700 (owner only: it holds account data);
    folders that exist already are left as they are."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    return path
