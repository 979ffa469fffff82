"""Where a post comes from, offline: country (ISO 3166-1) and first-level region (ISO 3166-2).

The resolution chain tries, in order, and records which step answered as ``method``:

1. ``place``: the X place attached to the post (country code given; the region read from
   ``full_name`` such as "Austin, TX");
2. ``profile``: the author's free-text profile location, resolved with the packaged gazetteer
   ``data/places.tsv`` (names, native names, nicknames, abbreviations, populations) and flag
   emoji. Comma-separated qualifiers disambiguate ("Paris, TX" is Texas, "London, Ontario" is
   Canada); without one the most populous candidate wins. Two-letter abbreviations only count
   as qualifiers, never alone. Strings that name no place ("earth", "she/her") give nothing.

Between the two, ``coordinates``: an exact point, reverse geocoded offline to the nearest town
of 5,000+ people (:mod:`outage_signals.reverse_geocoding`, GeoNames data). Place names in the
text (after a locative cue word, :mod:`outage_signals.text_places`) and the subreddit
(:mod:`outage_signals.subreddit_places`, ``data/subreddits.tsv``) come last.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pycountry

from outage_signals.records import Post


@dataclass(frozen=True)
class Candidate:
    """A gazetteer row: a spelling of a place."""

    country: str
    region: str | None
    population: int
    kind: str  # city, region, country, nickname


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, tuple[Candidate, ...]]:
    """Name (casefolded) -> candidates, from the packaged ``data/places.tsv``."""
    ref = resources.files("outage_signals") / "data" / "places.tsv"
    table: dict[str, list[Candidate]] = {}
    lines = ref.read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        name, country, region, population, kind = line.split("\t")
        table.setdefault(_norm(name), []).append(
            Candidate(country, region or None, int(population or 0), kind))
    return {k: tuple(v) for k, v in table.items()}


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = re.sub(r"[\"“”()\[\]!?*~_]+", " ", text)
    return re.sub(r"\s+", " ", text).strip(" .-'")


def _flag_country(text: str) -> str | None:
    """ISO code of the first flag emoji (a pair of regional indicator symbols) in ``text``."""
    letters = [chr(ord(c) - 0x1F1E6 + ord("A")) for c in text if 0x1F1E6 <= ord(c) <= 0x1F1FF]
    if len(letters) >= 2:
        code = "".join(letters[:2])
        return code if pycountry.countries.get(alpha_2=code) else None
    return None


#: Two-letter names that stand alone in profiles; other short names only qualify ("Austin, TX").
SHORT_NAMES = frozenset({"uk", "us", "la", "sf"})


def _candidates(name: str, allow_short: bool) -> tuple[Candidate, ...]:
    key = _norm(name)
    short = len(key) <= 2 and key.isascii()  # "東京" is a full name in two characters
    if short and not allow_short and key not in SHORT_NAMES:
        return ()
    found = gazetteer().get(key, ())
    if short and allow_short and len(key) == 2 and pycountry.countries.get(alpha_2=key.upper()):
        # After a comma "CA" may be Canada as well as California, "DE" Germany as well as
        # Delaware: offer both and let the place before the comma decide.
        found = (*found, Candidate(key.upper(), None, 0, "country"))
    return found


def _consistent(cand: Candidate, qualifier: Candidate) -> bool:
    if cand.country != qualifier.country:
        return False
    return qualifier.region is None or qualifier.kind == "country" or cand.region == qualifier.region


def resolve_profile(text: str | None) -> tuple[str, str | None] | None:
    """``(country, region or None)`` for a free-text location, or ``None`` if it names no place."""
    if not text or not text.strip():
        return None
    parts = [p for p in (_norm(p) for p in re.split(r"[,/|•·;]| - |\n", text)) if p]
    flag = _flag_country(text)
    if not parts:
        return (flag, None) if flag else None
    head = parts[0]
    qualifiers = [q for p in parts[1:] for q in _candidates(p, allow_short=True)]
    options = list(_candidates(head, allow_short=False))
    if not options and len(parts) == 1:
        # "Berlin Germany", "Austin TX": try the last word as a qualifier.
        words = head.rsplit(" ", 1)
        if len(words) == 2:
            options = list(_candidates(words[0], allow_short=False))
            qualifiers = list(_candidates(words[1], allow_short=True))
    if not options and qualifiers:
        options, qualifiers = qualifiers, []
    if flag:
        qualifiers.append(Candidate(flag, None, 0, "country"))
    if qualifiers:
        narrowed = [c for c in options if any(_consistent(c, q) for q in qualifiers)]
        if narrowed:
            options = narrowed
        elif options and not any(o.country in {q.country for q in qualifiers} for o in options):
            # "Springfield, Narnia": trust the qualifier if the head is unknown there.
            options = [q for q in qualifiers if q.kind in ("country", "region")] or options
    if not options:
        return (flag, None) if flag else None
    best = max(options, key=lambda c: (c.population, c.kind != "nickname"))
    return best.country, best.region


def resolve_place(place: dict | None) -> tuple[str, str | None] | None:
    """``(country, region)`` from an X place object, or ``None`` without a country code."""
    if not place or not place.get("country_code"):
        return None
    country = str(place["country_code"]).upper()
    region = None
    name = place.get("full_name")
    if name:
        found = resolve_profile(name)
        if found and found[0] == country:
            region = found[1]
    return country, region


def locate(post: Post) -> dict | None:
    """The contract's ``location`` object for ``post``, or ``None`` if nothing resolves."""
    found = resolve_place(post.place)
    if found:
        return {"country": found[0], "region": found[1], "method": "place"}
    if post.coordinates is not None:
        # Imported here: it loads scikit-learn's neighbours module and the town table, which
        # posts without coordinates (nearly all) never need.
        from outage_signals.reverse_geocoding import reverse

        found = reverse(*post.coordinates)
        if found:
            return {"country": found[0], "region": found[1], "method": "coordinates"}
    found = resolve_profile(post.user_location)
    if found:
        return {"country": found[0], "region": found[1], "method": "profile"}
    # Imported here because both build on this module's gazetteer (a cycle at import time).
    from outage_signals.subreddit_places import resolve_subreddit
    from outage_signals.text_places import resolve_text

    found = resolve_text(post.text, lang=post.lang)
    if found:
        return {"country": found[0], "region": found[1], "method": "text"}
    found = resolve_subreddit(post.subreddit)
    if found:
        return {"country": found[0], "region": found[1], "method": "subreddit"}
    return None


def annotate(posts: Iterable[Post]) -> list[Post]:
    """Add ``location`` to each post (see :func:`locate`)."""
    posts = list(posts)
    for post in posts:
        post.extra["location"] = locate(post)
    return posts


def country_name(code: str) -> str:
    """English name of an ISO 3166-1 alpha-2 code or ISO 3166-2 subdivision code."""
    if "-" in code:
        sub = pycountry.subdivisions.get(code=code)
        return sub.name if sub else code
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name
