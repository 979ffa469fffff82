"""Place names, offline: the tables behind profile and text locations.

Two tables, both keyed by :func:`normalize`\\ d name:

* :func:`gazetteer`: ``data/places.tsv``, written for this project: countries, first-level
  regions, about 1,500 cities under their English, native and local spellings, nicknames
  ("the Big Apple", "Hotlanta") and abbreviations, each with a population for disambiguation;
* :func:`towns`: every place of 5,000+ people in ``data/cities.tsv.gz`` (GeoNames, CC BY 4.0,
  the reverse geocoder's table) under its GeoNames name, for names the first table lacks
  ("Aarhus", "Fresno"). Bigger and blunter, so callers trust it less (see
  :mod:`outage_signals.locating`).

Lookups also try the name with accents removed (:func:`fold`), so "Sao Paulo" and "Zurich"
find "São Paulo" and "Zürich". :func:`flag_places` reads flag emoji, including the tag
sequences of England, Scotland and Wales.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pycountry

#: ``(country, region or None)``: ISO 3166-1 alpha-2 and ISO 3166-2 first-level codes.
Place = tuple[str, str | None]


@dataclass(frozen=True)
class Candidate:
    """A gazetteer row: one spelling of a place. ``population``: people, for ranking."""

    country: str
    region: str | None
    population: int
    kind: str  # city, region, country, nickname (places.tsv) or town (cities.tsv.gz)


# Quotes, brackets and stray punctuation become spaces; symbols (emoji such as 📍 or 🌴, the
# tag characters of subdivision flags) are dropped by category in normalize().
_PUNCT = re.compile(r"[\"“”«»()\[\]{}!?*~_]+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The lookup key of a name: NFKC, casefolded, symbols dropped, spaces collapsed.

    Casefolding turns "İ" into "i" plus a combining dot, which is dropped too, so "İstanbul"
    and "Istanbul" meet.
    """
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u0307", "")
    if not text.isascii():
        text = "".join(" " if unicodedata.category(c)[0] == "S" or 0xE0000 <= ord(c) <= 0xE007F
                       else c for c in text)
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip(" .-'")


def fold(key: str) -> str:
    """``key`` without accents ("são paulo" -> "sao paulo", "αθήνα" -> "αθηνα": Greek in
    capitals drops them); other scripts are left alone.

    Only Latin and Greek letters are folded: stripping marks from Japanese or Devanagari would
    change the letters themselves (が is か plus a mark).
    """
    if key.isascii():
        return key
    out = []
    for c in unicodedata.normalize("NFD", key):
        if unicodedata.combining(c) and out and (out[-1].isascii() or "\u0370" <= out[-1] <= "\u03ff"):
            continue
        out.append(c)
    return unicodedata.normalize("NFC", "".join(out)).replace("ß", "ss").replace("ø", "o")


def _with_folded(table: dict[str, list[Candidate]]) -> dict[str, tuple[Candidate, ...]]:
    """The table plus accent-free keys for names whose folded form is not a name already."""
    out = {k: tuple(v) for k, v in table.items()}
    for key, cands in table.items():
        folded = fold(key)
        if folded != key and folded not in table:
            out[folded] = out.get(folded, ()) + tuple(c for c in cands if c not in out.get(folded, ()))
    return out


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, tuple[Candidate, ...]]:
    """Name key -> candidates, from the packaged ``data/places.tsv`` (curated)."""
    ref = resources.files("outage_signals") / "data" / "places.tsv"
    table: dict[str, list[Candidate]] = {}
    lines = ref.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines[1:], 2):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 5:  # the file ships with the package: a bad line is a bug
            raise ValueError(f"places.tsv line {number}: expected name, country, region, "
                             "population, kind")
        name, country, region, population, kind = fields
        table.setdefault(normalize(name), []).append(
            Candidate(country, region or None, int(population or 0), kind))
    return _with_folded(table)


#: Columns of ``data/cities.tsv.gz`` (see ``scripts/build-cities``).
CITY_COLUMNS = ("name", "lat", "lon", "country", "region", "population")


@lru_cache(maxsize=1)
def city_fields() -> list[str]:
    """Every field of ``data/cities.tsv.gz`` in one flat list, row after row: column ``i`` of
    the table is ``city_fields()[i::len(CITY_COLUMNS)]``. Read once per process for both the
    town names here and the reverse geocoder's coordinates.
    """
    ref = resources.files("outage_signals") / "data" / "cities.tsv.gz"
    text = gzip.decompress(ref.read_bytes()).decode("utf-8")
    header = "\n" + "\t".join(CITY_COLUMNS) + "\n"
    start = text.find(header)
    if start < 0:
        raise RuntimeError(f"{ref}: no header line {header.strip()!r}; rebuild with scripts/build-cities")
    # One split over the whole body instead of one per line: names carry no tabs (the build
    # script makes sure), so every column is a stride slice.
    fields = text[start + len(header):].rstrip("\n").replace("\n", "\t").split("\t")
    if len(fields) % len(CITY_COLUMNS):
        raise RuntimeError(f"{ref}: ragged rows; rebuild with scripts/build-cities")
    return fields


@lru_cache(maxsize=1)
def towns() -> dict[str, tuple[Candidate, ...]]:
    """Name key -> places of 5,000+ people from ``data/cities.tsv.gz`` (kind ``town``).

    Built on first use (about 0.2 s): only profile strings the curated table does not know
    and names after cue words ever need it.
    """
    fields, width = city_fields(), len(CITY_COLUMNS)
    table: dict[str, list[Candidate]] = {}
    for name, country, region, population in zip(fields[0::width], fields[3::width],
                                                 fields[4::width], fields[5::width], strict=True):
        table.setdefault(normalize(name), []).append(
            Candidate(country, region or None, int(population or 0), "town"))
    return _with_folded(table)


def lookup(table: dict[str, tuple[Candidate, ...]], key: str) -> tuple[Candidate, ...]:
    """Candidates for a normalized ``key``, trying its accent-free form second."""
    found = table.get(key)
    if found is None and not key.isascii():
        found = table.get(fold(key))
    return found or ()


# Case endings of declined place names and what the name's dictionary form ends in instead, by
# script. Polish "w Krakowie", "z Poznania", "w Warszawie"; Czech "v Brně"; Hungarian
# "Budapesten", "Győrben"; Finnish "Oulussa", "Tampereella", "Helsingissä"; Russian "в Москве",
# "в Казани"; Ukrainian "у Львові", "у Києві", "в Одесі". Longest ending first; a few stems
# change too (Helsinki -> Helsingi-, Lviv -> Lvov-), hence the multi-letter endings.
_LATIN_ENDINGS = (
    ("ngissä", ("nki",)), ("ngissa", ("nki",)), ("ella", ("",)), ("ellä", ("",)),
    ("ssa", ("",)), ("ssä", ("",)), ("lla", ("",)), ("llä", ("",)),
    ("ben", ("",)), ("ban", ("",)), ("ön", ("",)), ("en", ("",)), ("on", ("",)),
    ("owie", ("ow", "owa")), ("ie", ("a", "")), ("iu", ("",)), ("ia", ("",)), ("ě", ("o", "a")),
    ("y", ("a",)), ("u", ("",)), ("a", ("",)), ("i", ("", "a")),
)
_CYRILLIC_ENDINGS = (
    ("єві", ("їв",)), ("ові", ("ів",)), ("ові", ("ов",)), ("і", ("а", "о", "")),
    ("е", ("а", "", "я")), ("и", ("ь", "а")), ("у", ("",)), ("а", ("",)),
)
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def is_cyrillic(text: str) -> bool:
    """Whether ``text`` has a Cyrillic letter (its names decline whatever the language tag)."""
    return _CYRILLIC.search(text) is not None


#: Dictionary forms shorter than this are not tried (too many short names are words).
BASE_FORM_MIN = 4


def base_forms(key: str) -> list[str]:
    """Dictionary forms a case-inflected one-word name ``key`` may have ("krakowie" ->
    "krakowa", "krakow"; "москве" -> "москва", "москв"), most likely first, for look-ups after
    the name as written failed. Not applied to names of several words."""
    if " " in key:
        return []
    endings = _CYRILLIC_ENDINGS if is_cyrillic(key) else _LATIN_ENDINGS
    out = []
    for ending, replacements in endings:
        if key.endswith(ending):
            stem = key[: -len(ending)]
            out.extend(stem + r for r in replacements if len(stem + r) >= BASE_FORM_MIN)
    return list(dict.fromkeys(out))


def leader(candidates, dominance: float) -> Candidate | None:
    """The most populous of same-named ``candidates`` if it has ``dominance`` times the people
    of every namesake in another country, else ``None`` ("Valencia", "Georgia": no clear
    reading). Namesakes in the same country never block: the country is known either way."""
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c.population)
    if any(c.country != best.country and c.population * dominance > best.population
           for c in candidates):
        return None
    return best


#: Town names (5,000+ people) far more often ordinary words ("Batman", "Surprise", "Orange"):
#: never looked up in the town table.
TOWN_WORDS = frozenset([
    "batman", "surprise", "independence", "orange", "corona", "mercedes", "concord", "providence",
    "victoria", "temple", "hope", "paradise", "eden", "home", "love", "van", "bar", "mandi", "of",
    "mission", "pearland", "sunrise", "deltona", "lakewood", "carmel", "plano", "centennial",
    "enterprise", "commerce", "liberty", "unity", "harmony", "trinity",
])


_TAG_BASE = 0xE0000  # tag letters: U+E0061 is tag "a"


def flag_places(text: str) -> list[Place]:
    """Places of the flag emoji in ``text``, in order: ``("BR", None)`` for 🇧🇷, and for the
    tag sequences of subdivision flags their region (🏴 + "gbsct" is ``("GB", "GB-SCT")``).
    Unknown codes and the EU flag give nothing."""
    out: list[Place] = []
    letters: list[str] = []
    for i, c in enumerate(text):
        o = ord(c)
        if 0x1F1E6 <= o <= 0x1F1FF:
            letters.append(chr(o - 0x1F1E6 + ord("A")))
            if len(letters) == 2:
                code = "".join(letters)
                if pycountry.countries.get(alpha_2=code):
                    out.append((code, None))
                letters = []
        elif o == 0x1F3F4:  # black flag: a subdivision when tag letters follow
            tags = []
            for t in text[i + 1:]:
                if not 0xE0061 <= ord(t) <= 0xE007A:
                    break
                tags.append(chr(ord(t) - _TAG_BASE))
            code = "".join(tags).upper()
            if len(code) >= 4:
                country, sub = code[:2], f"{code[:2]}-{code[2:]}"
                if pycountry.subdivisions.get(code=sub):
                    out.append((country, sub))
    return out
