"""What a capacity plan is priced with: the model's list prices and tier multipliers (:class:`Pricing`), and
what a reservation of it costs (:class:`ReservationTerms`), from the profile over the built-in table, each
with where it came from (:mod:`.planning` builds the plan from them)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .pricing import DEFAULT_MULTIPLIERS, PriceTable
from .profile import Profile

RESERVATION_PRICE_UNKNOWN = "reservation price unknown — enter your contract's figure"
BUILT_IN_PRICES = "built-in list price table (us-east-1 Standard)"


@dataclass(frozen=True)
class Pricing:
    """Per-1K-token Standard prices of one model and the tier multipliers, with where each came from."""

    input_per_1k: float
    output_per_1k: float
    source: str
    multipliers: Mapping[str, float]
    multiplier_sources: Mapping[str, str]

    def usd(self, input_tokens: float, output_tokens: float, tier: str) -> float:
        return (input_tokens * self.input_per_1k + output_tokens * self.output_per_1k) / 1000.0 \
            * self.multipliers[tier]


@dataclass(frozen=True)
class ReservationTerms:
    """What a reservation of this model costs, and the one the profile already declares (if any)."""

    price_per_1k_tpm_month: float | None  # None: unknown
    price_source: str
    term_months: int = 1
    current_id: str | None = None
    current_input_tpm: int | None = None
    current_output_tpm: int | None = None


def pricing_from_profile(profile: Profile, model_id: str) -> Pricing | None:
    """The model's prices from the profile (``prices``, ``tier_price_multipliers``) over the built-in table."""
    table = PriceTable.from_profile(profile.prices, profile.tier_price_multipliers)
    base = table.base(model_id)
    if base is None:
        return None
    own = PriceTable(dict((k, (float(v["input"]), float(v["output"]))) for k, v in profile.prices.items()), {})
    source = f"profile {profile.name!r} prices" if own.base(model_id) == base else BUILT_IN_PRICES
    keys = [k for k in DEFAULT_MULTIPLIERS if k != "reserved"]
    return Pricing(base[0], base[1], source, {k: float(table.multipliers[k]) for k in keys},
                   {k: (f"profile {profile.name!r} tier_price_multipliers" if k in profile.tier_price_multipliers
                        else _DEFAULT_MULTIPLIER_SOURCES[k]) for k in keys})


_DEFAULT_MULTIPLIER_SOURCES = {
    "priority": "built-in default (the commonly quoted +75%; unconfirmed)",
    "default": "built-in default (Standard is the list price)",
    "flex": "built-in default (the quoted ~50% discount; unconfirmed)",
    "batch": "built-in default (Batch's 50% discount)",
}


def reservation_terms(profile: Profile, model_id: str, price_override: float | None = None) -> ReservationTerms:
    """The price per 1K TPM per month: the override, else the profile's reservation of the model (0 = unknown)."""
    current = next((r for r in profile.reservations if r.model_id == model_id), None)
    price, source = None, RESERVATION_PRICE_UNKNOWN
    if price_override is not None:
        price, source = float(price_override), "--reservation-price (your figure)"
    elif current is not None and current.price_per_1k_tpm_month > 0:
        price = current.price_per_1k_tpm_month
        source = f"profile {profile.name!r} reservation {current.reservation_id!r}"
    return ReservationTerms(price, source, current.term_months if current else 1,
                            current.reservation_id if current else None,
                            current.input_tpm if current else None, current.output_tpm if current else None)
