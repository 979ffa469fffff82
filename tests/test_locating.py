"""Offline location of posts: X place first, then the profile location."""

from __future__ import annotations

import pytest

from outage_signals.locating import country_name, locate, resolve_place, resolve_profile
from outage_signals.records import post_from_dict
from tests.conftest import record


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Austin, TX", ("US", "US-TX")),
        ("Paris, TX", ("US", "US-TX")),
        ("Paris", ("FR", "FR-IDF")),
        ("London, Ontario", ("CA", "CA-ON")),
        ("London", ("GB", "GB-ENG")),
        ("Toronto, CA", ("CA", "CA-ON")),  # CA after a comma can be Canada, not only California
        ("Berlin, DE", ("DE", "DE-BE")),
        ("Springfield, IL", ("US", "US-IL")),
        ("NYC", ("US", "US-NY")),
        ("Houston Texas", ("US", "US-TX")),
        ("São Paulo, Brasil", ("BR", "BR-SP")),
        ("東京", ("JP", "JP-13")),
        ("🇧🇷", ("BR", None)),
        ("United States", ("US", None)),
    ],
)
def test_profile_locations_resolve(text, expected):
    assert resolve_profile(text) == expected


@pytest.mark.parametrize("junk", ["earth", "she/her", "in my head", "the internet", "", "  ",
                                  None, "Narnia", "in", "OK"])
def test_strings_that_name_no_place_resolve_to_nothing(junk):
    assert resolve_profile(junk) is None


def test_place_wins_and_reads_its_region():
    assert resolve_place({"country_code": "US", "full_name": "Manhattan, NY"}) == ("US", "US-NY")
    assert resolve_place({"country_code": "gb", "full_name": "Somewhere odd"}) == ("GB", None)
    assert resolve_place({"full_name": "Austin, TX"}) is None
    post = post_from_dict(record(place={"country_code": "US", "full_name": "Austin, TX"},
                                 user_location="Paris, France"))
    assert locate(post) == {"country": "US", "region": "US-TX", "method": "place"}
    post = post_from_dict(record(user_location="Paris, France"))
    assert locate(post) == {"country": "FR", "region": "FR-IDF", "method": "profile"}


def test_names():
    assert country_name("US") == "United States"
    assert country_name("US-TX") == "Texas"
    assert country_name("ZZ") == "ZZ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("İstanbul", ("TR", "TR-34")),  # casefolding leaves a dot that must go
        ("Zurich", ("CH", "CH-ZH")),  # accents optional
        ("the Bay Area", ("US", "US-CA")),
        ("Greater Boston area", ("US", "US-MA")),
        ("Chicago-ish", ("US", "US-IL")),
        ("somewhere in Ohio", ("US", "US-OH")),
        ("📍Mumbai | Views my own", ("IN", "IN-MH")),
        ("born in Manila, living in Dubai", ("AE", "AE-DU")),
        ("Planet Earth (currently Oslo)", ("NO", None)),
        ("Liverpool (originally Leeds)", ("GB", "GB-ENG")),
        ("Opinions my own. Nairobi.", ("KE", "KE-30")),
        ("NYC → LA", ("US", "US-NY")),
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", ("GB", "GB-SCT")),  # a subdivision flag: tag letters "gbsct"
        ("Perth 🏴󠁧󠁢󠁳󠁣󠁴󠁿", ("GB", "GB-SCT")),  # ...which qualifies like a country flag
        ("Midwest", ("US", None)),  # spans several states: the country only
        ("Mancunian", ("GB", "GB-ENG")),
        # names only the GeoNames town table knows: alone from 100,000 people, else qualified
        ("Aarhus", ("DK", "DK-82")),
        ("Kumamoto", ("JP", "JP-43")),
        ("Bath, England", ("GB", "GB-ENG")),
        ("Moscow, Idaho", ("US", "US-ID")),  # a smaller namesake that the qualifier picks
        ("Indore, MP", ("IN", "IN-MP")),  # a code is a weak qualifier: not the Marianas
        ("Tijuana, B.C.", ("MX", None)),  # nor British Columbia
        ("St. Petersburg, FL", ("US", "US-FL")),  # "St." does not end a sentence
        ("Lagos-born, Toronto-based", ("CA", "CA-ON")),
        ("Berlin & Hamburg", ("DE", "DE-BE")),
        ("福岡市", ("JP", "JP-40")),  # administrative endings
        ("부산광역시", ("KR", "KR-26")),
        ("Kumamoto-shi", ("JP", "JP-43")),
    ],
)
def test_harder_profile_strings(text, expected):
    found = resolve_profile(text)
    assert found is not None and found[0] == expected[0]
    if expected[1]:
        assert found == expected


@pytest.mark.parametrize("junk", ["wherever I am", "ask me", "where the wifi is", "Split personality",
                                  "Cork screw", "Batman", "home", "🇪🇺",
                                  "Turkey & gravy enthusiast", "Bath & Body Works addict",
                                  "Florence + the Machine stan"])
def test_word_pairs_and_town_names_that_are_words_give_nothing(junk):
    assert resolve_profile(junk) is None


@pytest.mark.parametrize("text, expected", [
    ("w Krakowie", ("PL", "PL-12")), ("z Poznania", ("PL", "PL-30")), ("v Brně", ("CZ", "CZ-64")),
    ("в Москве", ("RU", "RU-MOW")), ("у Львові", ("UA", "UA-46")), ("из Питера", ("RU", "RU-SPE")),
    ("75011 Paris", ("FR", "FR-IDF")), ("Berlin 10115", ("DE", "DE-BE")), ("Praha 6", ("CZ", "CZ-10")),
    ("London SW1A 1AA", ("GB", "GB-ENG")), ("Dublin 8", ("IE", "IE-L")),
    ("1012 AB Amsterdam", ("NL", "NL-NH")), ("mieszkam we Wrocławiu", ("PL", "PL-02")),
    ("Budapesten", ("HU", "HU-BU")), ("Helsingissä", ("FI", "FI-18")), ("Tampereella", ("FI", "FI-11")),
    ("İstanbul'da", ("TR", "TR-34")), ("Ankara'dan", ("TR", "TR-06")), ("στην Αθήνα", ("GR", "GR-I")),
    ("ich wohne in München", ("DE", "DE-BY")), ("Iloilo City", ("PH", "PH-06")),
    ("Austin TX 78704", ("US", "US-TX")), ("Texas Panhandle", ("US", "US-TX")),
    ("ΑΘΗΝΑ", ("GR", "GR-I")), ("באר שבע", ("IL", "IL-D")), ("ขอนแก่น", ("TH", "TH-40")),
])
def test_declined_names_and_postcodes(text, expected):
    assert resolve_profile(text) == expected


@pytest.mark.parametrize("junk", ["area 51", "route 66", "в интернете", "у себя дома", "w/ love", "heaven",
                                  "Jordan 23", "Garden", "Golden", "Chicken Kitchen", "Brazil 2014",
                                  "Gotham City", "Emerald City"])
def test_numbers_and_prepositions_alone_give_nothing(junk):
    assert resolve_profile(junk) is None
