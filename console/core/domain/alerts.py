"""The profile's ``alert_threshold``: which quotas and reservations are over it, how to say so, when to ring.

Pure logic: the dashboard, the headless ``status`` (its header count, its ``▲`` marks and ``--fail-over``)
and the bell all ask here, so "over" means the same thing everywhere: a quota's TPM *or* RPM use, or a
reservation's input *or* output TPM use, at or above the threshold (:func:`is_over`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from .format import percent, plural


DEFAULT_THRESHOLD = 0.8


class _ProfileThreshold:
    """``status --fail-over`` given without a value: the profile's ``alert_threshold``.
    (An object, not a string: argparse passes a string ``const`` through the option's type.)"""

    def __repr__(self) -> str:
        return "the profile's alert_threshold"


PROFILE_THRESHOLD = _ProfileThreshold()


def is_over(*fractions: float | None, threshold: float | None = None) -> bool:
    """The one definition: any of a row's fractions (TPM and RPM of a quota, input and output of a
    reservation) at or above ``threshold``. ``is_over(tpm, rpm, threshold)`` is accepted too. A fraction of
    None (no data: a status document of a region CloudWatch holds nothing for) is never over."""
    if threshold is None:
        *rest, last = fractions
        assert last is not None
        return max((f for f in rest if f is not None), default=-1.0) >= last
    return max((f for f in fractions if f is not None), default=-1.0) >= threshold


def _field(row: Any, key: str) -> Any:
    """A field of a status document's row (a dict) or of a view (an object with that attribute)."""
    return row[key] if isinstance(row, dict) else getattr(row, key)


def _optional(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else getattr(row, key, None)


def quota_key(q: Any) -> str:
    """A quota row's identity: the model id, with its route when that is not on-demand (one model has a
    row per route its traffic takes)."""
    route = (q.get("route") if isinstance(q, dict) else getattr(q, "route", None)) or "on-demand"
    model = _field(q, "model_id")
    return model if route == "on-demand" else f"{model} ({route})"


#: The marks of a TPM figure, the same in the quota pane and ``status``: ``✖`` a measured minute reached the quota,
#: ``▲`` at or over the alert threshold, ``~`` an estimate (the last 60 s blended from per-minute sums).
TPM_GLYPH = {"ok": " ", "warn": "▲", "crit": "✖"}
ESTIMATE_GLYPH = "~"
MARKS_LEGEND = ("~ estimate: the last 60 s blended from CloudWatch's per-minute sums (the previous minute taken as "
                "even); ✖ a measured minute reached the quota")


def tpm_judged(fraction: float | None, peak: float | None) -> float | None:
    """The one rule "over" judges a quota's TPM use by (the dashboard, ``status``, the fleet, ``watch``): the blended
    estimate of the last 60 s (``fraction``, the figure shown), or the highest measured one-minute use (``peak``: the
    minute in progress so far or the last complete one, over the quota) when that is higher. Right after a minute
    boundary, or while CloudWatch's minute in progress is still filling, the blend reads far under a quota the
    account is pinned at; a measured minute does not. None: neither is known."""
    known = [f for f in (fraction, peak) if f is not None]
    return max(known) if known else None


def tpm_peak_fraction(q: Any) -> float | None:
    """A quota row's highest measured minute over its TPM quota (a view or a status document's row); None when
    either is not known."""
    peak, quota = _optional(q, "tpm_peak_minute"), _optional(q, "tpm_quota")
    return peak / quota if peak is not None and quota else None


def tpm_mark(fraction: float | None, *, estimated: bool, measured_over: bool,
             warn: float, peak: float | None = None) -> tuple[str, str, str]:
    """(level, glyph, percent) of a quota row's TPM, one definition for the pane, ``status`` and the fleet: ``crit``
    (``✖``) only when a measured minute reached the quota (an early spike in the blended previous minute can read
    over 100% with no minute over); ``warn`` (``▲``) when :func:`tpm_judged` of the estimate and the measured
    ``peak`` is at or over ``warn``; an estimate reads ``~85%``, or ``~`` in the glyph's place when the figure
    needs the room (``~117%``). ``fraction`` None (no quota known, or no data): ``—``."""
    if fraction is None:
        return "ok", TPM_GLYPH["ok"], percent(None)
    judged = tpm_judged(fraction, peak) or 0.0
    level = "crit" if judged >= 1.0 else "warn" if judged >= warn else "ok"
    if level == "crit" and not measured_over:
        level = "warn"
    pct, glyph = percent(fraction), TPM_GLYPH[level]
    if estimated and level != "crit":
        if len(pct) < 4:
            pct = ESTIMATE_GLYPH + pct
        else:
            glyph = ESTIMATE_GLYPH
    return level, glyph, pct


def quota_fractions(q: Any) -> list[tuple[str, float]]:
    """(label, fraction) of every quota a row draws on whose use is known: its TPM and RPM and each of its
    ``quotas`` (daily ones included), so "over" judges every applicable quota."""
    tpm = tpm_judged(_field(q, "tpm_fraction"), tpm_peak_fraction(q))  # the estimate, or a measured minute
    out = [(label, f) for label, f in (("TPM", tpm), ("RPM", _field(q, "rpm_fraction")))
           if f is not None]  # None: not measured (a region with no data), never over
    uses = q.get("quotas", ()) if isinstance(q, dict) else getattr(q, "quotas", ())
    for u in uses:
        f = _field(u, "fraction")
        if f is not None:
            out.append((_use_label(u), f))
    return out


def _use_label(u: Any) -> str:
    kind, measure = _field(u, "kind"), _field(u, "measure")
    period = u.get("period") if isinstance(u, dict) else u.period_s
    if kind == "cross_model_daily":
        return "account day"
    if period is not None and period >= 86_400:
        return "day"
    word = {"tokens": "TPM", "requests": "RPM", "input_tokens": "input TPM", "output_tokens": "output TPM"}
    return f"{kind.replace('_', '-')} {word.get(measure, measure)}"


def quotas_over(quotas: Iterable[Any], threshold: float) -> frozenset[str]:
    """Keys (:func:`quota_key`) of the quota rows (:class:`~tierconsole.core.domain.views.ModelQuotaView`
    or a status document's rows) with any applicable quota at or over ``threshold``."""
    return frozenset(quota_key(q) for q in quotas
                     if is_over(*(f for _, f in quota_fractions(q)), threshold=threshold))


def reservations_over(reservations: Iterable[Any], threshold: float) -> frozenset[str]:
    """Ids of the reservations (views or a status document's rows) whose input or output TPM use is at
    or over ``threshold``."""
    return frozenset(_field(r, "reservation_id") for r in reservations
                     if is_over(_field(r, "input_fraction"), _field(r, "output_fraction"), threshold=threshold))


@dataclass(frozen=True)
class Over:
    """One row over the threshold, at its highest use."""

    kind: str  # "quota" | "reservation"
    name: str  # the model id of a quota, the id of a reservation
    measure: str  # "TPM" / "RPM" of a quota, "input" / "output" of a reservation
    fraction: float
    estimated: bool = False  # the figure is the blended TPM estimate (a quota row's ``tpm_estimated``)

    def describe(self) -> str:
        """``amazon.nova-lite-v1:0 TPM 45.0% of quota``, ``reservation r1 output TPM 60.0%``; an estimate
        ``amazon.nova-lite-v1:0 TPM ~103.2% of quota (estimate)``."""
        if self.kind == "reservation":
            return f"reservation {self.name} {self.measure} TPM {self.fraction:.1%}"
        if self.estimated:
            return f"{self.name} {self.measure} {ESTIMATE_GLYPH}{self.fraction:.1%} of quota (estimate)"
        return f"{self.name} {self.measure} {self.fraction:.1%} of quota"

    def as_json(self) -> dict[str, Any]:
        """``status --json``'s ``over.items[]``."""
        return {"kind": self.kind, "name": self.name, "measure": self.measure, "fraction": self.fraction,
                "estimated": self.estimated}


def uses_over(quotas: Iterable[Any], reservations: Iterable[Any], threshold: float) -> list[Over]:
    """Every quota and reservation at or over ``threshold`` (each at its highest measure), highest first."""
    out: list[Over] = []
    for q in quotas:
        fractions = quota_fractions(q)
        if not fractions:
            continue
        measure, fraction = max(fractions, key=lambda lf: lf[1])  # ties: TPM first
        if is_over(fraction, threshold=threshold):
            # the row's TPM figures (its route's TPM quota, or a split input/output one) blend the previous minute in
            # (unless a measured minute is the higher: :func:`tpm_judged`)
            estimated = measure.endswith("TPM") and bool(_optional(q, "tpm_estimated")) \
                and (measure != "TPM" or fraction != tpm_peak_fraction(q))
            out.append(Over("quota", quota_key(q), measure, fraction, estimated))
    for r in reservations:
        known = [(f, label) for label, key in (("output", "output_fraction"), ("input", "input_fraction"))
                 if (f := _field(r, key)) is not None]
        if not known:
            continue
        fraction, measure = max(known)
        if is_over(fraction, threshold=threshold):
            out.append(Over("reservation", _field(r, "reservation_id"), measure, fraction))
    return sorted(out, key=lambda o: -o.fraction)


def threshold_text(threshold: float) -> str:
    """A threshold as typed, in percent: ``80%``, ``30%``, ``0.1%``, ``33.3%`` (never rounded to ``<1%``)."""
    return f"{round(threshold * 100, 4):g}%"


def over_text(count: int, threshold: float, reservations: int | None = None) -> str:
    """``1 quota over 80%``, ``2 quotas over 80%``; with reservations counted,
    ``2 quotas and 1 reservation over 80%``."""
    what = plural(count, "quota")
    if reservations:
        what += f" and {plural(reservations, 'reservation')}"
    return f"{what} over {threshold_text(threshold)}"


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
