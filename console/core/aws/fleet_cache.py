"""The fleet's quota cache (issue 15): each source account × region's Bedrock quota listing, read through the
account on the slow cadence, kept on disk so that ``status --fleet`` from cron does not read hundreds of quota
listings every run. ``$XDG_CACHE_HOME/tierconsole/fleet/<profile>.json``, 0600, written whole (never half), no
credentials: account ids, regions, quota names, codes and values. Versioned; an entry is used only for the same
endpoint and while younger than ``fleet.quota_refresh_seconds``; a damaged file is ignored (read again)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

from ..config.paths import user_cache_dir
from ..domain.quota_use import Listed
from ..domain.quotas import Measure, QuotaKind, QuotaSpec
from ..files import private_dir, write_private

VERSION = 1
Entry = tuple[float, Listed]  # (read at, on the collector's clock; the listing)


def cache_path(profile: str) -> Path:
    return user_cache_dir() / "fleet" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', profile)[:100]}.json"


def _spec(d: Mapping[str, Any]) -> QuotaSpec:
    return QuotaSpec(QuotaKind(d["kind"]), Measure(d["measure"]), int(d["period_s"]), int(d["value"]), str(d["name"]),
                     d.get("model_id"))


def load(path: Path, endpoint: str | None) -> dict[tuple[str, str], Entry]:
    """The cached listings by (account, region); empty when there is no file, it is for another endpoint, or damaged."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("version") != VERSION or doc.get("endpoint") != endpoint:
            return {}
        out = {}
        for e in doc["entries"]:
            listed = Listed(tuple(_spec(s) for s in e["specs"]), dict(e.get("codes", {})))
            out[(str(e["account"]), str(e["region"]))] = (float(e["at"]), listed)
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def save(path: Path, endpoint: str | None, entries: Mapping[tuple[str, str], Entry]) -> None:
    doc = {"version": VERSION, "endpoint": endpoint, "entries": [
        {"account": a, "region": r, "at": at, "codes": dict(listed.codes),
         "specs": [{"kind": s.kind.value, "measure": s.measure.value, "period_s": s.period_s, "value": s.value,
                    "name": s.name, "model_id": s.model_id} for s in listed.specs]}
        for (a, r), (at, listed) in sorted(entries.items())]}
    private_dir(path.parent)
    write_private(path, json.dumps(doc, separators=(",", ":")))
