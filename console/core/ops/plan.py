"""``plan``: one model's CloudWatch history, the capacity plan sized from it and the spend now (the
same cost view as the plan screen's)."""
from __future__ import annotations

from dataclasses import asdict


class PlanError(RuntimeError):
    """The history could not be read; the message names the call and the error."""


async def load_history(source, model_id: str, days: int):
    """``days`` of 1-minute history of ``model_id`` over a started live source. Raises :class:`PlanError`."""
    import botocore.exceptions as bx  # noqa: PLC0415

    from ..aws.history import HistoryError, fetch_history  # noqa: PLC0415
    from ..aws.session import describe_error  # noqa: PLC0415

    try:
        cw = await source.ctx.client("cloudwatch")
        return await fetch_history(cw, model_id, days=days)
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
