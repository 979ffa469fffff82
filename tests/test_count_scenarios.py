"""The count scenarios: seeded, truthful about their outages, and usable by the causal replay."""

from __future__ import annotations

import pandas as pd
import pytest

from outage_signals.backtesting import Replay
from outage_signals.simulation import count_scenarios as cs


def test_same_seed_same_series_other_seed_differs():
    scenario = cs.get("surge-x5-0.5")
    relevant, chatter, events = cs.make(scenario, 4)
    again = cs.make(scenario, 4)
    pd.testing.assert_series_equal(relevant, again[0])
    pd.testing.assert_series_equal(chatter, again[1])
    assert events == again[2]
    assert not relevant.equals(cs.make(scenario, 5)[0])


def test_index_is_utc_minutes_over_the_scenario_days():
    relevant, chatter, _ = cs.make(cs.get("surge-x2-0.05"), 0)
    assert relevant.index.freqstr == "min" and str(relevant.index.tz) == "UTC"
    assert relevant.index[0] == cs.START and len(relevant) == 8 * 1440
    assert chatter.index.equals(relevant.index)
    assert (relevant >= 0).all() and (chatter >= 0).all()


@pytest.mark.parametrize("scenario", [s for s in cs.SCENARIOS if s.outages],
                         ids=lambda s: s.name)
def test_outages_start_on_day_three_or_later_with_room_after(scenario):
    for seed in range(3):
        _, events = cs.rates(scenario, seed)[:2]
        assert len(events) == scenario.outages
        for event in events:
            assert event.service == "svc"
            assert pd.Timestamp(event.start) >= cs.START + pd.Timedelta(days=cs.FIRST_OUTAGE_DAY)
            assert pd.Timestamp(event.end) <= cs.START + pd.Timedelta(days=scenario.days)
            if scenario.hour_utc is not None:
                assert event.start.hour == scenario.hour_utc


@pytest.mark.parametrize("name", ["surge-x2-0.05", "surge-x5-5", "surge-x20-0.5", "ramp30-x5",
                                  "night-4am-x5", "two-outages-3h"])
def test_magnitude_sets_the_expected_peak(name):
    scenario = cs.get(name)
    frame, events, _ = cs.rates(scenario, 1)
    for event in events:
        span = frame[(frame.index >= event.start) & (frame.index < event.end)]
        background_at_start = frame.loc[pd.Timestamp(event.start), "background"]
        peak = span["outage"].idxmax()
        # Report rate at the peak is exactly (R - 1) x the background at the start ...
        assert span["outage"].max() == pytest.approx((scenario.magnitude - 1) * background_at_start)
        # ... so the total at the peak is about R x the background there.
        total = span.loc[peak, "background"] + span.loc[peak, "outage"]
        assert total / span.loc[peak, "background"] == pytest.approx(scenario.magnitude, rel=0.12)
    assert frame["outage"][frame.index < events[0].start].sum() == 0


def test_special_cases_are_built_as_described():
    night = cs.rates(cs.get("night-4am-x5"), 0)[0]["background"]
    assert night.groupby(night.index.hour).mean().idxmin() == 4
    sparse = cs.rates(cs.get("sparse-3/day"), 0)[0]
    assert sparse["outage"].max() == pytest.approx(1.0)
    assert sparse["background"].mean() == pytest.approx(3 / 1440, rel=0.1)
    two = cs.rates(cs.get("two-outages-3h"), 0)[1]
    assert two[1].start - two[0].start == pd.Timedelta(hours=3)
    bumpy, (event,), _ = cs.rates(cs.get("bumpy-90min"), 0)
    t = (bumpy.index - pd.Timestamp(event.start)).total_seconds() / 60
    assert bumpy["outage"][t == 45].iloc[0] < 0.35 * bumpy["outage"][t == 30].iloc[0]
    viral = cs.rates(cs.get("viral-chatter"), 0)[0]
    assert viral["leak"].max() > 2 * viral["background"].max()


def test_quiet_scenario_has_no_events_and_no_reports():
    frame, events, _ = cs.rates(cs.get("quiet-0.5"), 0)
    assert events == [] and frame["outage"].sum() == 0
    assert len(frame) == 30 * 1440


def test_replay_finds_a_x20_surge_at_5_per_minute():
    relevant, chatter, (event,) = cs.make(cs.get("surge-x20-5"), 0)
    surges = Replay(step=pd.Timedelta("1min")).run(relevant, "svc", chatter)
    likely = [s for s in surges if s.level == "likely"]
    assert any(abs((s.start - pd.Timestamp(event.start)).total_seconds()) <= 300 for s in likely)
