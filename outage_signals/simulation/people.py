"""Who posts in a simulation: authors, languages, sources and where they say they are.

Place and profile location shares follow what collectors see in practice: only a few percent of
X posts carry a place, roughly a third of profiles name somewhere (often junk like "earth"), and
Reddit posts carry a subreddit. Each language is tied to the countries that mostly write it, so a
simulated outage's geography is consistent with its languages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Language mix of posts (BCP-47 primary tags) and their weights.
LANGUAGES = {"en": 0.78, "es": 0.07, "pt": 0.05, "de": 0.03, "fr": 0.03, "ja": 0.02,
             "it": 0.01, "nl": 0.01}

SOURCES = {"twitter": 0.55, "reddit": 0.2, "bluesky": 0.15, "mastodon": 0.1}


@dataclass(frozen=True)
class Spot:
    """A place people post from: ISO 3166-1 country, ISO 3166-2 region (or None), and how
    profiles and X places write it."""

    country: str
    region: str | None
    profile: tuple[str, ...]
    place_name: str


# Per language: (weight, Spot). Profile strings are what people type in a bio.
SPOTS: dict[str, list[tuple[float, Spot]]] = {
    "en": [
        (0.10, Spot("US", "US-CA", ("Los Angeles, CA", "San Francisco", "SF Bay Area", "LA"),
                    "Los Angeles, CA")),
        (0.09, Spot("US", "US-NY", ("New York, NY", "NYC", "Brooklyn, NY"), "Manhattan, NY")),
        (0.07, Spot("US", "US-TX", ("Austin, TX", "Houston, Texas", "Dallas, TX"), "Austin, TX")),
        (0.05, Spot("US", "US-FL", ("Miami, FL", "Orlando, Florida"), "Miami, FL")),
        (0.05, Spot("US", "US-IL", ("Chicago, IL", "Chicago"), "Chicago, IL")),
        (0.04, Spot("US", "US-WA", ("Seattle, WA", "Seattle"), "Seattle, WA")),
        (0.04, Spot("US", "US-GA", ("Atlanta, GA", "ATL"), "Atlanta, GA")),
        (0.08, Spot("US", None, ("USA", "United States", "America 🇺🇸"), "United States")),
        (0.12, Spot("GB", "GB-ENG", ("London", "London, England", "Manchester, UK"),
                    "London, England")),
        (0.03, Spot("GB", "GB-SCT", ("Glasgow, Scotland", "Edinburgh"), "Edinburgh, Scotland")),
        (0.06, Spot("CA", "CA-ON", ("Toronto, Ontario", "Toronto"), "Toronto, Ontario")),
        (0.05, Spot("AU", "AU-NSW", ("Sydney, Australia", "Sydney NSW"), "Sydney, New South Wales")),
        (0.05, Spot("IN", "IN-MH", ("Mumbai, India", "Mumbai"), "Mumbai, India")),
        (0.03, Spot("IN", "IN-KA", ("Bangalore", "Bengaluru, India"), "Bengaluru, India")),
        (0.03, Spot("IE", None, ("Dublin, Ireland", "Ireland"), "Dublin, Ireland")),
        (0.03, Spot("NG", "NG-LA", ("Lagos, Nigeria", "Lagos"), "Lagos, Nigeria")),
        (0.03, Spot("PH", None, ("Manila, Philippines", "Philippines"), "Manila, Philippines")),
    ],
    "es": [
        (0.40, Spot("ES", "ES-MD", ("Madrid", "Madrid, España"), "Madrid, España")),
        (0.35, Spot("MX", "MX-CMX", ("CDMX", "Ciudad de México", "México"), "Ciudad de México")),
        (0.25, Spot("AR", "AR-C", ("Buenos Aires", "Buenos Aires, Argentina"), "Buenos Aires")),
    ],
    "pt": [
        (0.75, Spot("BR", "BR-SP", ("São Paulo, Brasil", "SP", "Brasil"), "São Paulo, Brasil")),
        (0.25, Spot("PT", None, ("Lisboa, Portugal", "Portugal"), "Lisboa, Portugal")),
    ],
    "de": [
        (0.70, Spot("DE", "DE-BE", ("Berlin", "Berlin, Deutschland"), "Berlin, Deutschland")),
        (0.30, Spot("AT", None, ("Wien", "Österreich"), "Wien, Österreich")),
    ],
    "fr": [
        (0.75, Spot("FR", "FR-IDF", ("Paris", "Paris, France"), "Paris, France")),
        (0.25, Spot("CA", "CA-QC", ("Montréal, QC", "Montreal"), "Montréal, Québec")),
    ],
    "ja": [(1.0, Spot("JP", "JP-13", ("Tokyo", "東京", "Tokyo, Japan"), "Tokyo, Japan"))],
    "it": [(1.0, Spot("IT", "IT-25", ("Milano", "Milan, Italy"), "Milano, Lombardia"))],
    "nl": [(1.0, Spot("NL", None, ("Amsterdam", "Nederland"), "Amsterdam, Nederland"))],
}

#: Profile "locations" that name no place; a locator must resolve these to nothing.
JUNK_LOCATIONS = ("earth", "the internet", "she/her", "somewhere", "in my head", "🌍",
                  "wherever the wifi is", "your mom's house", "Mars", "he/him | 25")

# Share of posts with each kind of location signal.
PLACE_SHARE_TWITTER = 0.03
PROFILE_SHARE = 0.30
JUNK_SHARE_OF_PROFILES = 0.2


def pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key of ``weights`` drawn by weight."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def pick_spot(rng: np.random.Generator, lang: str) -> Spot:
    options = SPOTS.get(lang, SPOTS["en"])
    p = np.array([w for w, _ in options])
    return options[int(rng.choice(len(options), p=p / p.sum()))][1]


class AuthorPool:
    """Authors with a heavy-tailed activity: a few post often, most post once.

    Each author has a fixed language and home spot, so repeated posts agree with each other.
    """

    def __init__(self, rng: np.random.Generator, prefix: str, size: int = 5000):
        self._rng = rng
        self.prefix = prefix
        self.size = size
        # Zipf-like weights: author k posts with weight 1 / (k + 10).
        w = 1.0 / (np.arange(size) + 10.0)
        self._cdf = np.cumsum(w / w.sum())
        self._profiles: dict[int, tuple[str, Spot, str | None]] = {}

    def draw(self) -> tuple[str, str, Spot, str | None]:
        """``(handle, lang, spot, profile_location)`` of one author."""
        k = min(int(np.searchsorted(self._cdf, self._rng.random())), self.size - 1)
        if k not in self._profiles:
            lang = pick(self._rng, LANGUAGES)
            spot = pick_spot(self._rng, lang)
            profile: str | None = None
            if self._rng.random() < PROFILE_SHARE:
                if self._rng.random() < JUNK_SHARE_OF_PROFILES:
                    profile = str(self._rng.choice(JUNK_LOCATIONS))
                else:
                    profile = str(self._rng.choice(spot.profile))
            self._profiles[k] = (lang, spot, profile)
        lang, spot, profile = self._profiles[k]
        return f"{self.prefix}{k:05d}", lang, spot, profile
