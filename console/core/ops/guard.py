"""Read-only enforcement and the audit log, at the client layer (not just hidden in the UI).

The console builds its guard before its first frame, so ``json`` and ``hashlib`` (~3 ms) load when an
entry is first written or read (bench/first_frame.py, issue 13)."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.profile import Profile


class ReadOnlyError(PermissionError):
    """A mutating action was refused because the profile (or --read-only) is read-only."""


def read_only_reason(profile: Profile) -> str:
    """What makes ``profile`` read-only, as every refusal says it: ``--read-only was given``, ``profile 'ops' sets
    read_only: true (/…/ops.yaml:4)`` (a fleet access rule's ``fleet.access[1].read_only`` likewise), an ad-hoc
    AWS config profile; both when both hold. "" when the profile is not read-only."""
    if not profile.read_only:
        return ""
    causes = [profile.read_only_by] if profile.read_only_by else []
    if profile.raw is not None and profile.read_only_field:
        from ..config.yamldoc import field_at  # noqa: PLC0415 - only when a refusal is said

        found = field_at(profile.raw, profile.read_only_field)
        if found is not None and found[0] is True:
            where = f"{profile.source}:{found[1]}" if found[1] is not None else profile.source
            # the file's profile (an account reached through a fleet's access rule is named after the fleet's)
            named = profile.raw.get("name")
            named = named if isinstance(named, str) else Path(profile.source).stem
            causes.append(f"profile {named!r} sets {profile.read_only_field}: true ({where})")
    return ", and ".join(causes) or f"profile {profile.name!r} is read-only"


def _secure_append(path: Path, line: str) -> None:
    """Append a line to a file that only its owner can read (created 0600, parents 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def text_fingerprint(text: str) -> dict[str, Any]:
    """What the audit log keeps of a prompt: its length and hash, never the text."""
    import hashlib  # noqa: PLC0415 - see the module's docstring

    return {"length": len(text), "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()}


@dataclass
class Guard:
    profile: Profile
    audit_path: Path
    account_id: str | None = None
    #: why ``account_id`` is None, said in every audit line without it (``account_unknown``), never a bare null
    account_unknown: str | None = None

    @property
    def read_only(self) -> bool:
        return self.profile.read_only

    def require_mutation(self, action: str, target: str) -> None:
        if self.read_only:
            reason = read_only_reason(self.profile)
            self.audit(action, target, "refused: read-only", cause=reason)
            raise ReadOnlyError(f"{action} refused: {reason}")

    def require_prompt(self, model_id: str = "-") -> None:
        """Refuse a test prompt of ``model_id`` in read-only mode (audited with the model as its target)."""
        if self.read_only and not self.profile.allow_prompts_in_read_only:
            reason = read_only_reason(self.profile)
            self.audit("prompt", model_id or "-", "refused: read-only", cause=reason)
            raise ReadOnlyError(f"test prompts refused: {reason}, and profile "
                                f"{self.profile.name!r} does not set allow_prompts_in_read_only: true "
                                "(allow_prompts_in_read_only is false): a prompt spends the shared quota (set "
                                "allow_prompts_in_read_only: true in the profile to allow them)")

    def audit(self, action: str, target: str, outcome: str, **detail: Any) -> None:
        entry: dict[str, Any] = {"time": round(time.time(), 3), "profile": self.profile.name, "account": self.account_id,
                 "region": self.profile.region, "action": action, "target": target, "outcome": outcome}
        if self.account_id is None:
            entry["account_unknown"] = self.account_unknown or "not looked up: no call was made before this entry"
        if detail:
            entry["detail"] = detail
        import json  # noqa: PLC0415 - see the module's docstring

        _secure_append(self.audit_path, json.dumps(entry, sort_keys=True) + "\n")


def append_history(path: Path, entry: dict[str, Any]) -> None:
    import json  # noqa: PLC0415 - see the module's docstring

    _secure_append(path, json.dumps(entry) + "\n")


def read_history(path: Path, limit: int = 200) -> list[Any]:
    if not path.exists():
        return []
    import json  # noqa: PLC0415 - see the module's docstring

    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[-limit:]:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn line from a crash: skip it, keep the rest
    return out
