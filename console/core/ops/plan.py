"""The capacity plan use case, for ``tierconsole plan`` and the console's ``c``: one model's CloudWatch
history, the capacity plan sized from it and the spend now (the cost view)."""
from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..aws.history import History
    from ..domain.app_profiles import AppProfile
    from ..domain.costview import CostView
    from ..domain.plan_results import CapacityPlan
    from ..domain.profile import Profile
    from ..session import OperatorSession


@dataclass(frozen=True)
class Series:
    """What a plan's history reads (:func:`history_series`)."""

    series: list[str]  # the ModelId series summed
    labels: dict[str, str]  # application profile ARN -> ``etl (3zcjidm03iv5)``
    note: str | None = None  # what is left out, and why
    application_profile: AppProfile | None = None  # the identifier named this application profile


class PlanError(RuntimeError):
    """The history could not be read; the message names the call and the error."""


class UnknownModel(PlanError):
    """No such model: not in the profile, not listed by Bedrock, and no metrics. The message names the known ones."""


class NoTraffic(PlanError):
    """A known model with no traffic (no datapoint at all) in the window: nothing to plan from."""


async def known_models(session: OperatorSession) -> list[str] | None:
    """The models a plan may be asked of: the profile's (watched and reserved) and the foundation models and
    inference profiles Bedrock lists; None when Bedrock could not be asked (then nothing is refused)."""
    profile = session.profile
    ids = set(profile.models) | {r.model_id for r in profile.reservations}
    try:
        bedrock = await (await session.context()).client("bedrock")
        ids |= {m["modelId"] for m in (await bedrock.list_foundation_models()).get("modelSummaries", [])}
    except Exception:  # noqa: BLE001 - an account that may not list models: the history alone decides
        return None
    try:
        ids |= {p["inferenceProfileId"] for p in
                (await bedrock.list_inference_profiles()).get("inferenceProfileSummaries", [])}
    except Exception:  # noqa: BLE001 - inference profiles are optional
        pass
    return sorted(ids)


async def load_history(session: OperatorSession, model_id: str, days: int, resolved: Series | None = None) -> History:
    """``days`` of 1-minute history of ``model_id`` up to the source's clock (a sandbox's timeline, else
    now). Raises :class:`PlanError`;
    :class:`UnknownModel` for a model Bedrock does not know (and with no metrics), :class:`NoTraffic` for a
    known model with no datapoint in the window (a zero report would look like a plan)."""
    history = await _fetch(session, model_id, days, resolved)
    from ..domain.planning import has_traffic  # noqa: PLC0415

    if has_traffic(history.frame):
        return history
    known = await known_models(session)
    if known is not None and model_id not in known:
        raise UnknownModel(f"unknown model {model_id!r} (not in profile {session.profile.name!r}, not listed by "
                           f"Bedrock in {session.profile.region}, no metrics); known models: {', '.join(known)}")
    raise NoTraffic(f"no traffic or metrics for {model_id} in the window {history.start:%Y-%m-%d %H:%M} → "
                    f"{history.end:%Y-%m-%d %H:%M} UTC ({days} day{'s' if days != 1 else ''}): CloudWatch "
                    "AWS/Bedrock has no datapoint for it, so there is nothing to plan from")


async def history_series(session: OperatorSession, model_id: str) -> Series:
    """The ``ModelId`` series whose traffic draws on ``model_id``'s quota, how each is named, and a note.

    A foundation model (or system profile): its own series and those of the application profiles copying it
    (their calls draw on the same quota and are published under the profile's ARN), found as the dashboard's
    collector finds them (``ListInferenceProfiles``). An application profile's id or ARN: that profile's
    series. When the profiles cannot be listed, the model's own series, and the note says what is left out."""
    from ..aws.listing import CallCounter, inference_profiles  # noqa: PLC0415
    from ..aws.session import describe_error  # noqa: PLC0415

    try:
        bedrock = await (await session.context()).client("bedrock")
        apps, _ = await inference_profiles(bedrock, session.profile.region, CallCounter())
    except Exception as e:  # noqa: BLE001 - the history still reads the model's own series, saying so
        return Series([model_id], {}, f"application inference profiles not listed ({describe_error(e)}): traffic "
                                      "through them is not counted")
    named = {a.arn: a.label for a in apps}
    this = next((a for a in apps if model_id in (a.profile_id, a.arn)), None)
    if this is not None:
        return Series([this.arn], named, None, this)
    return Series([model_id, *(a.arn for a in apps if a.copies == model_id)], named, None)


async def _fetch(session: OperatorSession, model_id: str, days: int, resolved: Series | None = None) -> History:
    import botocore.exceptions as bx  # noqa: PLC0415

    from ..aws.history import HistoryError, fetch_history  # noqa: PLC0415
    from ..aws.session import describe_error  # noqa: PLC0415

    ctx = await session.context()
    found = resolved or await history_series(session, model_id)
    try:
        cw = await ctx.client("cloudwatch")
        return await fetch_history(cw, model_id, series=found.series, labels=found.labels, note=found.note, days=days,
                                   now=session.clock(), settings=session.profile.metrics)
    except bx.ClientError as e:
        error = e.response.get("Error", {})
        raise PlanError(f"CloudWatch {e.operation_name} failed: {error.get('Code')}: {error.get('Message')}") from None
    except HistoryError as e:
        raise PlanError(f"CloudWatch: {e}") from None
    except (bx.BotoCoreError, OSError) as e:
        raise PlanError(f"CloudWatch at {ctx.target.label}: {describe_error(e)}") from None


async def plan_view(session: OperatorSession, model_id: str, days: int = 14) -> tuple[CapacityPlan, CostView]:
    """The plan screen's figures: 14 days of history, the plan at the profile's defaults (sized off the
    event loop: pandas) and the spend now. Raises :class:`PlanError` (or ValueError from the planner)."""
    history = await load_history(session, model_id, days)
    return await asyncio.to_thread(plan_and_spend, history, session.profile, model_id)


def plan_and_spend(history: History, profile: Profile, model_id: str, *, percentile: float = 90.0,
                   month: str = "730h", reservation_price: float | None = None) -> tuple[CapacityPlan, CostView]:
    """The capacity plan, and the spend now with what moving Standard traffic saves (the plan screen's
    cost view, the same use case)."""
    from ..domain.planning import MINUTES_PER_MONTH, plan_from_profile  # noqa: PLC0415
    from ..domain.costview import cost_view  # noqa: PLC0415
    from ..domain.pricing import PriceTable  # noqa: PLC0415

    plan = plan_from_profile(history.frame, profile, model_id, percentile=percentile,
                             minutes_per_month=MINUTES_PER_MONTH[month], reservation_price=reservation_price)
    if history.summed:  # the screen and the CLI say which series the figures add up (application profiles)
        plan = replace(plan, notes=(*plan.notes, f"history: {history.summed}"))
    now = cost_view(history.frame, model_id, PriceTable.from_profile(profile.prices, profile.tier_price_multipliers),
                    minutes_per_month=MINUTES_PER_MONTH[month])
    return plan, now


def plan_document(plan: CapacityPlan, now: CostView, history: History, profile: Profile) -> dict[str, Any]:
    """``plan --json``: the plan, the spend now, where the history came from and the profile."""
    doc = plan.to_json()
    doc["spend_now"] = asdict(now)
    doc["history"] = history.to_json()
    doc["profile"] = {"name": profile.name, "region": profile.region}
    return doc
