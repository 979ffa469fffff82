"""Where a post comes from, offline: country (ISO 3166-1) and first-level region (ISO 3166-2).

The resolution chain tries, in order, and records which step answered as ``method``:

1. ``place``: the X place attached to the post (country code given; the region read from
   ``full_name`` such as "Austin, TX");
2. ``profile``: the author's free-text profile location, resolved with the curated gazetteer
   ``data/places.tsv`` (names, native names, nicknames, demonyms, abbreviations, populations),
   then the GeoNames towns of ``data/cities.tsv.gz`` (:mod:`outage_signals.gazetteer`), and
   flag emoji. Comma-separated qualifiers disambiguate ("Paris, TX" is Texas, "London, Ontario"
   is Canada); without one the most populous candidate wins. Two-letter abbreviations only count
   as qualifiers, never alone. Of "born in A, living in B" B counts; fluff such as "Greater X
   area" or "X-ish" is ignored. Strings that name no place ("earth", "she/her") give nothing.

Between the two, ``coordinates``: an exact point, reverse geocoded offline to the nearest town
of 5,000+ people (:mod:`outage_signals.reverse_geocoding`, GeoNames data). Place names in the
text (after a locative cue word, :mod:`outage_signals.text_places`) and the subreddit
(:mod:`outage_signals.subreddit_places`, ``data/subreddits.tsv``) come last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pycountry

from outage_signals.gazetteer import (
    TOWN_WORDS,
    Candidate,
    Place,
    base_forms,
    flag_places,
    gazetteer,
    is_cyrillic,
    leader,
    lookup,
    normalize,
    towns,
)
from outage_signals.records import Post
from outage_signals.subreddit_places import resolve_subreddit
from outage_signals.text_places import resolve_text

#: Two-letter names that stand alone in profiles; other short names only qualify ("Austin, TX").
SHORT_NAMES = frozenset({"uk", "us", "la", "sf"})
#: A name only the GeoNames town table knows counts on its own from this many people up; smaller
#: towns need a qualifier that agrees ("Perth, Scotland", "Bath, England").
TOWN_ALONE = 100_000
#: A declined name with no preposition ("Helsingissä") is read only from this many letters and
#: for a city of this many people.
DECLINED_ALONE_MIN_LENGTH = 7
DECLINED_ALONE_MIN_POPULATION = 200_000
#: The largest namesake must be this many times larger than any abroad for a lone town name.
TOWN_DOMINANCE = 3.0

# Where a profile names two places, these say which one the author is in now.
_NOW = re.compile(r"^(?:currently|now|living|based|live|lives|residing|moved|relocated)"
                  r"(?:\s+(?:in|at|to|out of))?\s+")
_BEFORE = re.compile(r"^(?:born|raised|from|originally|ex|formerly|grew up)\b|[\s-](?:born|raised|bred)$")
_NOW_AFTER = re.compile(r"[\s-]based$")  # "Toronto-based"
# Administrative endings in Japanese, Korean and Chinese names and their romanisations:
# "福岡市", "부산광역시", "Kumamoto-shi".
_ADMIN_SUFFIX = re.compile(r"(?:-shi|-ken|-fu|-ku|市|県|府|都|区|광역시|특별시|시|도|省)$")
# Fluff around a name: "Greater Boston area", "Chicago-ish", "near Leeds", "somewhere in Ohio".
# "I live in" in other languages ("mieszkam we Wrocławiu", "ich wohne in Köln") and Greek "in
# the" ("στην Αθήνα") also go.
_PREFIX = re.compile(r"^(?:(?:just\s+)?(?:outside|near|around)(?:\s+of)?|somewhere\s+(?:in|near)|"
                     r"greater|metro|the|📍|📌|in|from|based\s+in|living\s+in|currently\s+in|"
                     r"mieszkam|bydlím|живу|(?:ich\s+)?wohne\s+in|(?:yo\s+)?vivo\s+(?:en|em|a|in)|"
                     r"moro\s+em|j['’]habite\s+(?:à|a|en)|(?:ik\s+)?woon\s+in|abito\s+a|"
                     r"στην|στη|στο|στον|από\s+την|από\s+το)\s+")
# "Iloilo City", "Texas Panhandle": tried only after the whole name failed ("Mexico City",
# "Kansas City" are names of their own).
_SUFFIX = re.compile(r"(?:[\s-]+(?:area|metro|metro\s+area|region|suburbs|burbs|ish|based|"
                     r"proper|and\s+beyond|citizen|native|local|city|panhandle))+$")
# Postcodes and district numbers around a name: "75011 Paris", "Berlin 10115", "Praha 6",
# "London SW1A 1AA", "Dublin 8", "1012 AB Amsterdam".
_POSTCODE = re.compile(r"^(?:\d{4}\s?[a-z]{2}\s+|\d[\d -]*\s+)"  # "1012 AB Amsterdam" (Dutch)
                       r"|\s+(?:\d[\d -]*|[a-z]{1,2}\d[a-z\d]?(?:\s*\d[a-z]{2})?)$")
# Prepositions before a declined place name (Polish, Czech, Slovak, Russian, Ukrainian).
_DECLINED_AFTER = re.compile(r"^(?:w|we|z|ze|v|ve|vo|в|во|у|з|із|из)\s+(?=\w{4})")
# A case ending after an apostrophe: Turkish "İstanbul'da", "Ankara'dan" (not English "'s").
_APOSTROPHE_CASE = re.compile(r"^(\w+)['’](?!s$)\w{1,4}$")
# Separators between parts; arrows and "→" list places in order, the first is home.
_SPLIT = re.compile(r"[,/|•·;()\[\]→➡>✈]|\s[-–—~]\s|->|(?<=\w{3})\.\s|\n")
# "Berlin & Hamburg" is two places, "Turkey & gravy enthusiast" none: split only if both are.
_JOIN = re.compile(r"\s(?:&|\+|and|y|et|und|e)\s")


def _variants(key: str) -> list[str]:
    """``key`` without the fluff around it: prefix, suffix, then both removed; the
    administrative ending, a Turkish case ending ("istanbul'da"), the postcode."""
    prefix = _PREFIX.sub("", key)
    suffix = _SUFFIX.sub("", key).strip()
    both = _SUFFIX.sub("", prefix).strip()
    native = _ADMIN_SUFFIX.sub("", key)
    cut = _APOSTROPHE_CASE.match(key)
    case = cut[1] if cut else ""
    return [v for v in dict.fromkeys((prefix, suffix, both, native, case)) if v and v != key]


def _candidates(name: str, allow_short: bool) -> tuple[Candidate, ...]:
    key = normalize(name)
    short = len(key) <= 2 and key.isascii()  # "東京" is a full name in two characters
    if short and not allow_short and key not in SHORT_NAMES:
        return ()
    found = lookup(gazetteer(), key)
    if not found and not short:
        for variant in _variants(key):
            found = _candidates(variant, allow_short)
            if found:
                return found
        postal = _POSTCODE.sub("", key).strip()
        if postal and postal != key:
            # A postcode or district number goes with a town, never a country: "Jordan 23" is
            # the sneaker, "Praha 6" is Prague.
            found = tuple(c for c in _candidates(postal, allow_short) if c.kind != "country")
            if found:
                return found
        found = _declined(key)
    if short and allow_short and len(key) == 2 and pycountry.countries.get(alpha_2=key.upper()):
        # After a comma "CA" may be Canada as well as California, "DE" Germany as well as
        # Delaware: offer both and let the place before the comma decide.
        found = (*found, Candidate(key.upper(), None, 0, "code"))
    if allow_short and len(key.replace(".", "")) <= 3:
        # An abbreviation qualifies, but weakly: "B.C." is Baja California after Tijuana.
        found = tuple(Candidate(c.country, c.region, c.population, "code") for c in found)
    return found


def _declined(key: str) -> tuple[Candidate, ...]:
    """A declined one-word place name after a Slavic preposition ("w Krakowie",
    "v Brně", "в Москве") or in Cyrillic ("Москве"): the first dictionary form that is one.
    Alone in Latin script ("Budapesten", "Tampereella") only a big city counts, as a long
    word: short endings make ordinary words look declined ("Garden" would be Gard)."""
    m = _DECLINED_AFTER.match(key)
    alone = not m and not is_cyrillic(key)
    if m:
        key = key[m.end():]
    elif alone and len(key) < DECLINED_ALONE_MIN_LENGTH:
        return ()
    for base in base_forms(key):
        found = lookup(gazetteer(), base)
        if alone:
            found = tuple(c for c in found if c.kind == "city"
                          and c.population >= DECLINED_ALONE_MIN_POPULATION)
        if found:
            return found
    return ()


def _town_candidates(name: str) -> tuple[Candidate, ...]:
    """Candidates from the GeoNames town table, for a name the curated table lacks."""
    key = normalize(name)
    for variant in (key, *_variants(key), _POSTCODE.sub("", key).strip()):
        if len(variant) >= 3 and variant not in TOWN_WORDS:
            found = lookup(towns(), variant)
            if found:
                return found
    return ()


def _consistent(cand: Candidate, qualifier: Candidate) -> bool:
    if cand.country != qualifier.country:
        return False
    return qualifier.region is None or qualifier.kind == "country" or cand.region == qualifier.region


def _parts(text: str) -> list[str]:
    """The parts of a profile string, the one naming where the author is now first, without
    the parts naming where they were before ("born in Manila, living in Dubai")."""
    whole = normalize(text)
    if lookup(gazetteer(), whole):
        return [whole]  # "Frankfurt (Oder)", "Washington, D.C." as one name
    parts = []
    for part in (normalize(p) for p in _SPLIT.split(text)):
        pieces = _JOIN.split(part)
        if len(pieces) > 1 and all(_candidates(p, allow_short=False) for p in pieces):
            parts.extend(pieces)
        elif part:
            parts.append(part)
    now = [i for i, p in enumerate(parts) if _NOW.match(p) or _NOW_AFTER.search(p)]
    if now:
        i = now[0]
        parts = [_NOW_AFTER.sub("", _NOW.sub("", parts[i])), *parts[i + 1:], *parts[:i]]
    return [p for n, p in enumerate(parts) if n == 0 or not _BEFORE.match(p)]


def resolve_profile(text: str | None) -> Place | None:
    """``(country, region or None)`` for a free-text location, or ``None`` if it names no place.

    Tried in order: the curated gazetteer for the first part, qualified by the others and by
    flags; "City Qualifier" without a comma ("Berlin Germany", "Austin TX"); then the GeoNames
    town table, a lone name only for towns of :data:`TOWN_ALONE`+ people that clearly lead
    their namesakes abroad, any town when a qualifier agrees; last, a flag alone.
    """
    if not text or not text.strip():
        return None
    flags = flag_places(text)
    parts = _parts(text)
    if not parts:
        return flags[0] if flags else None
    head = parts[0]
    flag_quals = [Candidate(c, r, 0, "region" if r else "country") for c, r in flags]
    qualifiers = [q for p in parts[1:] for q in _candidates(p, allow_short=True)] + flag_quals
    options = list(_candidates(head, allow_short=False))
    if not options and len(parts) == 1:
        # "Berlin Germany", "Austin TX": the last word qualifies; both must be places, or
        # "wherever I am" would be Amazonas (AM) and "Split personality" Croatia.
        # A ZIP code may follow: "Austin TX 78704".
        words = _POSTCODE.sub("", head).strip().rsplit(" ", 1)
        if len(words) == 2:
            last = list(_candidates(words[1], allow_short=True))
            first = list(_candidates(words[0], allow_short=False)) if last else []
            if first and last:
                options, qualifiers = first, last + flag_quals
    if qualifiers:
        agree = [c for c in options if any(_consistent(c, q) for q in qualifiers)]
        if not agree:  # "Moscow, Idaho", "Perth, Scotland": a smaller namesake agrees
            agree = [c for c in _town_candidates(head) if any(_consistent(c, q) for q in qualifiers)]
        if agree:
            return _best(agree)
    if not options:
        options = _lone_town(head)
    if options and (not qualifiers or all(q.kind == "code" for q in qualifiers)
                    or any(o.country in {q.country for q in qualifiers} for o in options)):
        # No qualifier, or only a code that may mean something else ("Indore, MP" is Madhya
        # Pradesh, not the Northern Marianas), or one in the same country: the name decides.
        return _best(options)
    if not options:
        # "Smallville, Kansas", "Opinions my own. Nairobi.": the head names nothing, the rest does.
        return _best(qualifiers) if qualifiers else None
    full = [q for q in qualifiers if q.kind in ("country", "region")]
    # "Springfield, Narnia" keeps Springfield; "Gotham, Texas" would be Texas.
    return _best(full or options)


def _best(options: list[Candidate]) -> Place:
    best = max(options, key=lambda c: (c.population, c.kind != "nickname"))
    return best.country, best.region


def _lone_town(head: str) -> list[Candidate]:
    """The GeoNames town a name means on its own: :data:`TOWN_ALONE`+ people and well ahead
    of any namesake abroad, else nothing."""
    best = leader(_town_candidates(head), TOWN_DOMINANCE)
    return [best] if best is not None and best.population >= TOWN_ALONE else []


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
