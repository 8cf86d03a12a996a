"""The throttle feed's events and their filter: what the throttle pane lists (a part of :mod:`.views`, which
re-exports it)."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter
from typing import Literal, Sequence

from .format import short_error, tier_label


@dataclass(frozen=True)
class ThrottleEvent:
    """A throttle (or other service error) seen by CloudWatch or by the console's own calls.

    ``tier`` is the wire value (``priority``/``default``/``flex``/``reserved``; ``""`` when the
    source does not split by tier). ``search_key`` is precomputed so that filtering 100k events is a
    plain substring scan.
    """

    time: float  # epoch seconds
    model_id: str
    tier: str
    count: int = 1
    error: str = "ThrottlingException"
    message: str = ""
    source: Literal["cloudwatch", "console"] = "console"
    #: how the console names the series when it is not a model's: an application profile's ``etl (3zcjidm03iv5)``
    #: (its ``model_id`` is the profile's ARN, as CloudWatch's ``ModelId`` says it); "" for a model or system profile
    label: str = ""
    search_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = " ".join((self.model_id, self.label, self.tier, tier_label(self.tier), self.error, self.message,
                        self.source))
        # Interned: 100k events share a few hundred keys (memory), and a key's hash is computed once.
        object.__setattr__(self, "search_key", sys.intern(key.lower()))

    @property
    def short_error(self) -> str:
        return short_error(self.error)


class SearchIndex:
    """The search keys of one sequence of events, gathered once.

    100k events share a few hundred (interned) keys: models × tiers × errors × sources. With the
    keys gathered, a filter matches each distinct key once and keeps events in one C-level pass
    (~4 ms for 100k instead of ~11 ms; bench/scale.py). Build it when the events arrive, off the
    keystroke's path.
    """

    __slots__ = ("events", "keys", "distinct")

    def __init__(self, events: Sequence[ThrottleEvent]):
        self.events = events
        self.keys = [e.search_key for e in events]
        self.distinct = frozenset(self.keys)


def filter_events(events: Sequence[ThrottleEvent], query: str,
                  index: SearchIndex | None = None) -> Sequence[ThrottleEvent]:
    """Events whose model, tier (wire value or label), error, message or source contain every
    whitespace-separated term of ``query`` (case-insensitive); a ``!term`` excludes. Order is kept.
    ``events`` itself (no copy) when nothing is filtered out. ``index`` is used if it was built
    over these very ``events``."""
    terms = query.lower().split()
    include = [t for t in terms if not t.startswith("!")]
    exclude = [t[1:] for t in terms if t.startswith("!") and len(t) > 1]
    if not include and not exclude:
        return events
    if index is None or index.events is not events:
        index = SearchIndex(events)
    verdict = {key: all(t in key for t in include) and not any(t in key for t in exclude) for key in index.distinct}
    if all(verdict.values()):
        return events
    if not any(verdict.values()):
        return []
    return list(compress(events, map(verdict.__getitem__, index.keys)))


_SEARCH_KEY = attrgetter("search_key")
