"""The watch's state file: open episodes, alerted episodes, cool-downs and alerts not yet delivered, so that a
restart resumes without alerting again. ``$XDG_STATE_HOME/tierconsole/watch/<profile>.json`` (or ``--state
FILE``): directory 0700, file 0600, written whole (a temporary file renamed over it)."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from ..config.paths import user_state_dir
from ..domain.alerting import STATE_FORMAT
from ..files import private_dir, write_private

MAX_STATE_BYTES = 16 * 1024 * 1024  # a state file beyond this is not ours (it is bounded far below)


def default_state_path(profile: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", profile) or "profile"
    return user_state_dir() / "watch" / f"{safe}.json"


class StateFile:
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def load(self) -> tuple[dict[str, Any] | None, str | None]:
        """(the saved state or None, a warning or None). A damaged or foreign file is renamed aside
        (``*.damaged-<time>``) and the watch starts afresh, saying so."""
        try:
            if self.path.stat().st_size > MAX_STATE_BYTES:
                raise ValueError(f"larger than {MAX_STATE_BYTES // 2**20} MiB")
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT or doc.get("version") != 1:
                raise ValueError("not a tierconsole watch state (version 1)")
            return doc, None
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as exc:
            aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
            try:
                os.replace(self.path, aside)
            except OSError:
                aside = self.path
            return None, (f"{self.path}: cannot be read ({exc}); starting afresh (kept as {aside.name}): "
                          "episodes open before may alert again")

    def save(self, doc: dict[str, Any]) -> None:
        private_dir(self.path.parent)
        write_private(self.path, json.dumps(doc, separators=(",", ":")))
