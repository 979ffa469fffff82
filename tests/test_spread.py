"""Geographic spread of an incident: shares, lift over the usual mix, scope, first regions."""

from __future__ import annotations

import pandas as pd
import pytest

from outage_signals.spread import scope, spread

START = pd.Timestamp("2025-01-07T14:00Z")
STOP = pd.Timestamp("2025-01-07T16:00Z")


def frame(rows):
    """rows: (minutes after START, author, country, region)."""
    return pd.DataFrame(
        [{"created_at": START + pd.Timedelta(minutes=m), "author": a, "source": "twitter",
          "id": f"{a}-{m}", "country": c, "region": r} for m, a, c, r in rows])


def usual_mix():
    """A day before: 60 % US (spread over states), 20 % GB, 20 % DE."""
    rows = []
    for i in range(100):
        country, region = (("US", ["US-CA", "US-NY", "US-TX", "US-FL"][i % 4]) if i % 5 < 3 else
                           ("GB", "GB-ENG") if i % 5 == 3 else ("DE", "DE-BE"))
        rows.append((-1440 + i, f"u{i}", country, region))
    return rows


def test_local_outage_in_one_state():
    during = [(5 + i, f"tx{i}", "US", "US-TX") for i in range(18)]
    during += [(30, "ca1", "US", "US-CA"), (31, "ny1", "US", "US-NY")]
    result = spread(frame(usual_mix() + during), START, STOP)
    assert result["scope"] == "local"
    assert result["regions"][0]["code"] == "US" and result["regions"][0]["share"] == 1.0
    texas = result["subregions"][0]
    assert texas["code"] == "US-TX" and texas["posts"] == 18 and texas["lift"] > 2
    assert result["first_regions"][0] == {"code": "US-TX", "posts": 10}
    assert result["located"] == 20


def test_national_when_one_country_spread_over_its_regions():
    during = [(i, f"d{i}", "DE", ["DE-BE", "DE-BY", "DE-HH", "DE-NW"][i % 4]) for i in range(20)]
    result = spread(frame(usual_mix() + during), START, STOP)
    assert result["scope"] == "national"
    assert result["regions"][0]["lift"] > 3  # Germany is usually 20 %


def test_global_and_multi_country():
    countries = ["US", "GB", "DE", "FR", "JP", "BR"]
    during = [(i, f"g{i}", countries[i % 6], None) for i in range(60)]
    assert spread(frame(usual_mix() + during), START, STOP)["scope"] == "global"
    during = [(i, f"m{i}", ["US", "GB"][i % 2], None) for i in range(20)]
    assert spread(frame(usual_mix() + during), START, STOP)["scope"] == "multi-country"


def test_too_few_located_is_unknown_and_no_usual_mix_gives_no_lift():
    during = [(1, "a", "US", None), (2, "b", "US", None), (3, "c", None, None)]
    result = spread(frame(during), START, STOP)
    assert result["scope"] == "unknown" and result["regions"][0]["lift"] is None


def test_authors_count_once_where_first_located():
    during = [(1, "a", "FR", "FR-IDF"), (2, "a", "FR", "FR-IDF"), (3, "a", "BE", None),
              (4, "b", "FR", "FR-IDF")]
    result = spread(frame(during), START, STOP)
    assert [(r["code"], r["posts"]) for r in result["regions"]] == [("FR", 2)]


def test_smoothed_lift_does_not_explode_on_two_reports():
    during = [(1, "a", "NZ", None), (2, "b", "NZ", None)] + \
             [(3 + i, f"us{i}", "US", None) for i in range(30)]
    result = spread(frame(usual_mix() + during), START, STOP)
    nz = next(r for r in result["regions"] if r["code"] == "NZ")
    assert 1 < nz["lift"] < 10


@pytest.mark.parametrize("shares,expected", [([0.9, 0.1], "national"), ([0.5, 0.5], "multi-country")])
def test_scope_rules(shares, expected):
    countries = [{"code": c, "share": s, "posts": int(s * 100), "lift": 1.0}
                 for c, s in zip(["US", "GB"], shares, strict=True)]
    assert scope(countries, [], 100) == expected
