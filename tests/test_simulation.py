"""The simulator: seeded, realistic in shape, and honest about its truth."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from outage_signals.errors import InputError, InvalidRecordError
from outage_signals.simulation import OutageEvent, ServiceProfile, load_events, simulate
from outage_signals.simulation.events import parse_outage
from outage_signals.simulation.profiles import cycle, minute_grid, outage_shape
from tests.conftest import utc

START, END = utc(2025, 1, 6), utc(2025, 1, 8)
EVENT = OutageEvent("slack", utc(2025, 1, 7, 14), utc(2025, 1, 7, 16))


@pytest.fixture(scope="module")
def sim(catalog):
    profile = ServiceProfile("slack", chatter_per_min=1.0, complaints_per_min=0.1,
                             outage_peak_per_min=20.0)
    return simulate(catalog, START, END, [profile], [EVENT], seed=3)


def test_same_seed_same_posts(catalog, sim):
    profile = ServiceProfile("slack", chatter_per_min=1.0, complaints_per_min=0.1,
                             outage_peak_per_min=20.0)
    again = simulate(catalog, START, END, [profile], [EVENT], seed=3)
    assert [p.to_dict() for p in again.posts[:200]] == [p.to_dict() for p in sim.posts[:200]]
    assert len(again.posts) == len(sim.posts)


def test_posts_are_sorted_unique_and_inside_the_window(sim):
    times = [p.created_at for p in sim.posts]
    assert times == sorted(times)
    assert times[0] >= START and times[-1] < END
    assert len({p.key for p in sim.posts}) == len(sim.posts)
    assert set(sim.labels) == {p.key for p in sim.posts}


def test_outage_raises_relevant_posts_and_truth_is_returned(sim):
    frame = pd.DataFrame({"t": [p.created_at for p in sim.posts],
                          "label": [sim.labels[p.key][0] for p in sim.posts]})
    during = frame[(frame.t >= EVENT.start) & (frame.t < EVENT.end)]
    before = frame[(frame.t >= utc(2025, 1, 6, 14)) & (frame.t < utc(2025, 1, 6, 16))]
    assert during.label.sum() > 10 * max(1, before.label.sum())
    assert sim.truth()["events"][0]["start"] == "2025-01-07T14:00:00Z"


def test_streams_are_varied(sim):
    kinds = Counter(kind for _, kind in sim.labels.values())
    assert set(kinds) == {"complaint", "recovered", "chatter", "lookalike", "other_service"}
    assert len({p.source for p in sim.posts}) == 4
    assert len({p.lang for p in sim.posts}) >= 6
    authors = Counter(p.author for p in sim.posts)
    assert authors.most_common(1)[0][1] >= 5  # repeat authors exist
    with_place = sum(1 for p in sim.posts if p.place)
    with_profile = sum(1 for p in sim.posts if p.user_location)
    assert 0 < with_place < 0.05 * len(sim.posts)
    assert 0.1 * len(sim.posts) < with_profile < 0.4 * len(sim.posts)
    assert 0.05 < sum(1 for p in sim.posts if p.service is None) / len(sim.posts) < 0.3


def test_cycles_and_outage_shape():
    grid = minute_grid(utc(2025, 1, 6), utc(2025, 1, 13))
    factor = cycle(grid, ServiceProfile("x", peak_hour_utc=17))
    assert factor[17 * 60] == pytest.approx(1.6)
    assert factor[5 * 60] == pytest.approx(0.4)
    assert factor[5 * 1440 + 17 * 60] == pytest.approx(1.6 * 0.8)  # Saturday
    shape = outage_shape(grid, OutageEvent("x", utc(2025, 1, 7, 10), utc(2025, 1, 7, 11)))
    start = 1440 + 600
    assert shape[start - 1] == 0 and shape[start + 5] > 0.8 and shape[start + 90] < 0.01
    assert np.argmax(shape) < start + 30


def test_events_csv_and_outage_specs(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("event_id,service,start_utc,end_utc\n"
                    "a,chatgpt,2024-12-26T18:40:00Z,2024-12-27T02:20:00Z\n"
                    "b,aws,2021-12-07T15:30:00Z,2021-12-07T15:00:00Z\n")
    with pytest.raises(InvalidRecordError, match=r"events.csv:3: end_utc is not after start_utc"):
        load_events(path)
    path.write_text("event_id,service,start_utc\n")
    with pytest.raises(InputError, match="missing column"):
        load_events(path)
    event = parse_outage("slack@2025-01-07T14:00Z/2025-01-07T16:00Z")
    assert (event.service, event.start, event.end) == ("slack", utc(2025, 1, 7, 14),
                                                       utc(2025, 1, 7, 16))
    with pytest.raises(InputError, match="must look like"):
        parse_outage("slack 2025-01-07")
