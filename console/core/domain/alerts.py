"""The profile's ``alert_threshold``: which quotas are over it, how to say so, when to ring.

Pure logic: the dashboard, the headless ``status`` and the bell all ask here, so "over" means the
same thing everywhere (a quota's TPM *or* RPM use at or above the threshold).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .format import percent, plural

DEFAULT_THRESHOLD = 0.8


class _ProfileThreshold:
    """``status --fail-over`` given without a value: the profile's ``alert_threshold``.
    (An object, not a string: argparse passes a string ``const`` through the option's type.)"""

    def __repr__(self) -> str:
        return "the profile's alert_threshold"


PROFILE_THRESHOLD = _ProfileThreshold()


def is_over(tpm_fraction: float, rpm_fraction: float, threshold: float) -> bool:
    return max(tpm_fraction, rpm_fraction) >= threshold


def quotas_over(quotas: Iterable, threshold: float) -> frozenset[str]:
    """Model ids of the quotas (:class:`~tierconsole.core.domain.views.ModelQuotaView`) at or over ``threshold``."""
    return frozenset(q.model_id for q in quotas if is_over(q.tpm_fraction, q.rpm_fraction, threshold))


def over_text(count: int, threshold: float) -> str:
    """``1 quota over 80%``, ``2 quotas over 80%``."""
    return f"{plural(count, 'quota')} over {percent(threshold)}"


@dataclass
class Crossings:
    """Remembers which quotas were over the threshold, to ring once when one crosses it.

    The first observation (a console just opened, a profile just switched to) sets the baseline and
    rings nothing: those quotas were not seen crossing; the header says they are over. After that a
    quota that goes from under to over rings once; staying over rings nothing; dropping under and
    crossing again rings again.
    """

    known: frozenset[str] | None = None
    rings: int = field(default=0)

    def observe(self, over: frozenset[str]) -> bool:
        """Record this refresh's set of quotas over; True when one of them has just crossed."""
        crossed = self.known is not None and bool(over - self.known)
        self.known = over
        if crossed:
            self.rings += 1
        return crossed

    def reset(self) -> None:
        self.known = None
