"""The throttle feed names an application inference profile as the quota pane does (newcomer-3 F-m): its name,
with the id after it (``etl (3zcjidm03iv5)``), not the bare id its ARN ends with; the filter finds it by either."""
from __future__ import annotations

import dataclasses

from tierconsole.core.domain import metricsplan as mp
from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard
from tierconsole.core.domain.views import ThrottleEvent, filter_events
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.widgets.throttles import ThrottleList

ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/3zcjidm03iv5"
LABEL = "etl (3zcjidm03iv5)"


def test_the_metrics_plan_labels_the_events_of_a_named_series():
    a = mp.Answers()
    a.series[("InvocationThrottles", ARN, None)] = {SAMPLE_NOW - 60: 4.0}
    [event] = mp.throttle_events(a, [ARN], {}, labels={ARN: LABEL})
    assert (event.model_id, event.label, event.count) == (ARN, LABEL, 4)
    assert filter_events([event], "etl") == [event] and filter_events([event], "3zcjidm03iv5") == [event]


async def test_the_feed_shows_the_profiles_name_and_id():
    event = ThrottleEvent(time=SAMPLE_NOW - 60, model_id=ARN, tier="", count=4, source="cloudwatch", label=LABEL)
    data = dataclasses.replace(sample_dashboard(), throttle_events=(event,))
    app = TierConsoleApp(data=data)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        row = app.query_one(ThrottleList).render_line(1).text
        assert LABEL in row, row
