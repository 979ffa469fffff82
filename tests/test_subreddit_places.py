"""Geographic subreddits: the packaged table and its look-up."""

from __future__ import annotations

from importlib import resources

import pycountry
import pytest

from outage_signals.subreddit_places import resolve_subreddit, subreddit_table


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("berlin", ("DE", "DE-BE")),
        ("r/berlin", ("DE", "DE-BE")),
        ("/r/Berlin/", ("DE", "DE-BE")),
        ("R/CasualUK", ("GB", None)),
        ("AskUK", ("GB", None)),
        ("de", ("DE", None)),
        ("de_IAmA", ("DE", None)),
        ("brasil", ("BR", None)),
        ("argentina", ("AR", None)),
        ("nyc", ("US", "US-NY")),
        ("bayarea", ("US", "US-CA")),
        ("Texas", ("US", "US-TX")),
        ("toronto", ("CA", "CA-ON")),
        ("londonontario", ("CA", "CA-ON")),
        ("london", ("GB", "GB-ENG")),
        ("glasgow", ("GB", "GB-SCT")),
        ("melbourne", ("AU", "AU-VIC")),
        ("munich", ("DE", "DE-BY")),
        ("turkey", ("TR", None)),
        ("china", ("CN", None)),
        ("portland", ("US", "US-OR")),
    ],
)
def test_geographic_subreddits_resolve(name, expected):
    assert resolve_subreddit(name) == expected


@pytest.mark.parametrize("name", ["sysadmin", "r/ChatGPT", "gaming", "AskReddit", "europe",
                                  "chelseafc", "georgia", "jordan", "es", "r/", "", "  ", None])
def test_other_subreddits_give_nothing(name):
    assert resolve_subreddit(name) is None


def test_table_is_large_lowercase_and_its_codes_are_first_level():
    table = subreddit_table()
    assert len(table) >= 150
    for name, (country, region) in table.items():
        assert name == name.lower() and "/" not in name
        assert pycountry.countries.get(alpha_2=country), name
        if region is not None:
            sub = pycountry.subdivisions.get(code=region)
            assert sub is not None and sub.parent_code is None, (name, region)
            assert sub.country_code == country, (name, region)


def test_file_has_four_columns_and_no_duplicates():
    text = (resources.files("outage_signals") / "data" / "subreddits.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert rows[0] == ["subreddit", "country", "region", "note"]
    assert all(len(row) == 4 for row in rows)
    names = [row[0] for row in rows[1:]]
    assert len(names) == len(set(names)) == len(subreddit_table())
