"""``plan``: one model's CloudWatch history, the capacity plan sized from it and the spend now (the
same cost view as the plan screen's)."""
from __future__ import annotations

from dataclasses import asdict


class PlanError(RuntimeError):
    """The history could not be read; the message names the call and the error."""


class UnknownModel(PlanError):
    """No such model: not in the profile, not listed by Bedrock, and no metrics. The message names the known ones."""


class NoTraffic(PlanError):
    """A known model with no traffic (no datapoint at all) in the window: nothing to plan from."""


async def known_models(source) -> list[str] | None:
    """The models a plan may be asked of: the profile's (watched and reserved) and the foundation models and
    inference profiles Bedrock lists; None when Bedrock could not be asked (then nothing is refused)."""
    profile = source.profile
    ids = set(profile.models) | {r.model_id for r in profile.reservations}
    try:
        bedrock = await source.ctx.client("bedrock")
        ids |= {m["modelId"] for m in (await bedrock.list_foundation_models()).get("modelSummaries", [])}
    except Exception:  # noqa: BLE001 - an account that may not list models: the history alone decides
        return None
    try:
        ids |= {p["inferenceProfileId"] for p in
                (await bedrock.list_inference_profiles()).get("inferenceProfileSummaries", [])}
    except Exception:  # noqa: BLE001,S110 - inference profiles are optional
        pass
    return sorted(ids)


async def load_history(source, model_id: str, days: int):
    """``days`` of 1-minute history of ``model_id`` over a started live source. Raises :class:`PlanError`;
    :class:`UnknownModel` for a model Bedrock does not know (and with no metrics), :class:`NoTraffic` for a
    known model with no datapoint in the window (a zero report would look like a plan)."""
    history = await _fetch(source, model_id, days)
    from ..domain.planning import has_traffic  # noqa: PLC0415

    if has_traffic(history.frame):
        return history
    known = await known_models(source)
    if known is not None and model_id not in known:
        raise UnknownModel(f"unknown model {model_id!r} (not in profile {source.profile.name!r}, not listed by "
                           f"Bedrock in {source.profile.region}, no metrics); known models: {', '.join(known)}")
    raise NoTraffic(f"no traffic or metrics for {model_id} in the window {history.start:%Y-%m-%d %H:%M} → "
                    f"{history.end:%Y-%m-%d %H:%M} UTC ({days} day{'s' if days != 1 else ''}): CloudWatch "
                    "AWS/Bedrock has no datapoint for it, so there is nothing to plan from")


async def _fetch(source, model_id: str, days: int):
    import botocore.exceptions as bx  # noqa: PLC0415

    from ..aws.history import HistoryError, fetch_history  # noqa: PLC0415
    from ..aws.session import describe_error  # noqa: PLC0415

    try:
        cw = await source.ctx.client("cloudwatch")
        return await fetch_history(cw, model_id, days=days, settings=source.profile.metrics)
    except bx.ClientError as e:
        error = e.response.get("Error", {})
        raise PlanError(f"CloudWatch {e.operation_name} failed: {error.get('Code')}: {error.get('Message')}") from None
    except HistoryError as e:
        raise PlanError(f"CloudWatch: {e}") from None
    except (bx.BotoCoreError, OSError) as e:
        raise PlanError(f"CloudWatch at {source.ctx.target.label}: {describe_error(e)}") from None


def plan_and_spend(history, profile, model_id: str, *, percentile: float, month: str,
                   reservation_price: float | None):
    """The capacity plan, and the spend now with what moving Standard traffic saves (the plan screen's
    cost view, the same use case)."""
    from ..domain.planning import MINUTES_PER_MONTH, plan_from_profile  # noqa: PLC0415
    from ..domain.costview import cost_view  # noqa: PLC0415
    from ..domain.pricing import PriceTable  # noqa: PLC0415

    plan = plan_from_profile(history.frame, profile, model_id, percentile=percentile,
                             minutes_per_month=MINUTES_PER_MONTH[month], reservation_price=reservation_price)
    now = cost_view(history.frame, model_id, PriceTable.from_profile(profile.prices, profile.tier_price_multipliers),
                    minutes_per_month=MINUTES_PER_MONTH[month])
    return plan, now


def plan_document(plan, now, history, profile) -> dict:
    """``plan --json``: the plan, the spend now, where the history came from and the profile."""
    doc = plan.to_json()
    doc["spend_now"] = asdict(now)
    doc["history"] = history.to_json()
    doc["profile"] = {"name": profile.name, "region": profile.region}
    return doc
