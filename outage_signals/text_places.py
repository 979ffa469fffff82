"""Place names in a post's own words: the text step of the location chain (issue 6).

A gazetteer name (``data/places.tsv``) counts only where the post says the trouble is
*somewhere*: right after a locative cue word ("down all over Lisbon", "caído en Madrid",
"Störung in Hamburg", "panne SFR à Lyon", "storing in Utrecht"), as a hashtag ("#Madrid"), or
in Japanese before a particle ("東京で", "大阪の", "札幌周辺"). A wrong country is worse than
none, so every doubt ends in ``None``:

* Latin-script names must be capitalised; names under four letters count only as capitalised
  country abbreviations ("UK", "USA"), never as nicknames ("LA", "NYC") or state codes.
* A capitalised word right after the name makes it part of a longer proper name ("Paris
  Hilton", "Washington Post", "China Mobile"), unless it is itself a place, a service or a
  common sentence word; so do a possessive ("Victoria's Secret") and a few telling nouns
  ("Jordan shoes", "Turkey dinner"). "Made in China" is a product, not a place.
* Names of catalog services never count. A name shared by places in different countries
  counts only when one is clearly the largest (:data:`DOMINANCE`) or a qualifier decides
  ("in Atlanta, Georgia", "in Paris, TX", "in London Ontario").

Of several places, the first with a qualifier wins, else the most populous; if they name
different countries the first is kept. Speed: one precompiled expression finds cues, hashtags
and Japanese names; each hit costs a few dictionary look-ups, and a post with no capitalised
word after a cue costs one scan.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import pycountry

from outage_signals.catalog import Catalog, load_catalog
from outage_signals.locating import Candidate, _norm, gazetteer

#: Locative cue words by language (ISO 639-1). "here in" and "aqui em" end in a cue already.
CUES: dict[str, tuple[str, ...]] = {
    "en": ("in", "across", "around", "all over", "throughout", "near", "from"),
    "es": ("en", "por todo", "por toda"),
    "pt": ("em", "no", "na"),
    "de": ("in", "im", "bei", "ganz"),
    "fr": ("à", "a", "en", "dans", "sur"),
    "it": ("a", "in", "su"),
    "nl": ("in", "te", "rond"),
}
#: Cues that are also English words before capitalised nouns ("a Chicago pizza", "no Netflix"):
#: they count only when the post's language is known to be one that uses them.
_LANG_ONLY = frozenset({"a", "no"})
#: The largest of same-named places must be this many times larger than any namesake elsewhere.
DOMINANCE = 4.5

#: Names far more often something else: a programming language, Christmas in Portuguese
#: ("no Natal"), a French party ("En Marche"), the German train ("im Zug"), and a nickname
#: shared by California and Cali, Colombia.
_NEVER = frozenset({"java", "natal", "marche", "zug", "cali"})
#: Places that are also given names: "an email from Jordan" or "#Chelsea" is a person.
_PEOPLE = frozenset({"jordan", "chad", "georgia", "victoria", "florence", "charlotte", "madison",
                     "jackson", "austin", "dallas", "houston", "lincoln", "aurora", "savannah",
                     "brooklyn", "regina", "sofia", "salvador", "adelaide", "darwin", "hamilton",
                     "preston", "chandler", "gilbert", "lawrence", "henderson", "montgomery",
                     "paris", "sydney", "santiago", "augusta", "eugene", "phoenix", "chelsea"})
#: Words that make the place before them a thing: sneakers, food, tableware, fonts, clubs, media.
_THING_AFTER = frozenset({
    "shoes", "shoe", "sneakers", "sneaker", "retro", "retros", "dinner", "sandwich", "breast",
    "roast", "burger", "bacon", "leg", "legs", "trot", "plate", "plates", "porcelain", "dishes",
    "cabinet", "doll", "font", "fonts", "typeface", "post", "times", "tribune", "herald", "fc",
    "united", "city", "county", "rovers", "hilton", "secret", "syndrome", "agreement", "accords",
    "mobile", "telecom", "unicom", "airlines", "airways", "instruments", "roadhouse"})
#: Capitalised words that may follow a place without making it a longer proper name.
_SENTENCE_AFTER = frozenset({
    "i", "is", "are", "anyone", "anybody", "any", "everyone", "still", "since", "now", "today",
    "tonight", "again", "and", "but", "or", "so", "too", "right", "rn", "atm", "lol", "lmao",
    "smh", "wtf", "omg", "ugh", "help", "please", "pls", "why", "what", "it", "my", "no", "not",
    "just", "also", "all", "this", "down", "outage", "internet", "wifi", "service", "power",
    "seit", "heute", "jetzt", "gerade", "auch", "kein", "keine", "und", "wieder", "netz", "wlan",
    "störung", "ausfall", "handy", "empfang", "hoy", "desde", "sin", "ya", "ahora", "hoje", "sem",
    "agora", "depuis", "et", "pas", "panne", "encore", "oggi", "anche", "non", "ancora", "sinds",
    "vandaag", "geen", "ook", "storing"})
#: Lower-case words allowed inside a multi-word name ("Rio de Janeiro", "Frankfurt am Main").
_JOINERS = frozenset({"de", "do", "da", "dos", "das", "del", "la", "las", "los", "el", "y", "e",
                      "and", "of", "the", "upon", "on", "am", "an", "der", "du", "des", "en", "di"})
#: A direction before a name is skipped ("in South London"), except before continents.
_DIRECTIONS = frozenset({"north", "south", "east", "west", "central", "downtown", "northern",
                         "southern", "eastern", "western", "nord", "süd", "sud", "ost", "norte"})
#: Words before a cue that make it a product's or person's origin ("made in China").
_ORIGIN = frozenset({"made", "born", "raised", "designed", "manufactured", "assembled", "hecho",
                     "fabricado", "fabriqué", "fabrique", "fatto", "feito", "hergestellt"})

_UPPER = "".join(re.escape(c) for c in map(chr, [*range(0x41, 0x250), *range(0x1E00, 0x1F00)])
                 if c.isupper())
_CASELESS = r"[^\W\d_\u0000-\u024f\u1e00-\u1eff]"  # a letter of another script (名, Москва)
_KATAKANA = re.compile("[\u30a0-\u30ff]")
_COMPOUND = re.compile("[\u30a0-\u30ff南北中東西央]")  # katakana, or a direction: 南アメリカ
# A word of a name; "." continues it only before a letter ("D.C."); then its punctuation.
_TOKEN = re.compile(r"([^\W_](?:[\w'’&\-]|\.(?=[^\W\d_]))*)([^\w\s]*)[ \t\u00a0]*")
_WORD_BEFORE = re.compile(r"(\w+)\W*$")

Place = tuple[str, str | None]


class _Hit(NamedTuple):
    place: Place
    qualified: bool
    population: int


class TextPlaces:
    """Resolver built once from the gazetteer and a service catalog (the packaged one by default)."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        catalog = load_catalog({}) if catalog is None else catalog
        self.services = frozenset(a.casefold() for s in catalog for a in (*s.aliases, *s.cased_aliases))
        unwanted = self.services | _NEVER
        self.names = {k: v for k, v in gazetteer().items() if k not in unwanted}
        self.tags: dict[str, tuple[Candidate, ...]] = {}
        for key, cands in self.names.items():  # hashtags drop spaces: #SaoPaulo, #NewYork
            tag = re.sub(r"[\s.'’\-]", "", key)
            self.tags[tag] = self.tags.get(tag, ()) + cands
        japanese = sorted((k for k in self.names if re.search("[\u3040-\u9fff]", k)), key=len, reverse=True)
        cues = sorted({c for cs in CUES.values() for c in cs}, key=len, reverse=True)
        cue_re = "|".join(re.escape(c).replace("\\ ", r"\s+") for c in cues)
        self.pattern = re.compile(
            rf"(?<![\w#@'’\-])(?P<cue>(?i:{cue_re}))\s+(?=(?i:the\s+)?(?:[{_UPPER}]|{_CASELESS}))"
            rf"|(?<![\w#&])#(?P<tag>[^\W_]\w*)"
            rf"|(?P<ja>{'|'.join(map(re.escape, japanese))})(?=で|の|は|周辺|全域)")
        self.cue_sets = {lang: frozenset(cs) for lang, cs in CUES.items()}
        self.default_cues = frozenset(c for cs in CUES.values() for c in cs) - _LANG_ONLY

    def resolve(self, text: str | None, *, lang: str | None = None) -> Place | None:
        """``(country, region or None)`` named in ``text``, or ``None``.

        ``lang`` (ISO 639-1, as X and Bluesky report it) restricts cues to that language; an
        unknown or missing language uses every cue except :data:`_LANG_ONLY`.
        """
        if not text:
            return None
        cues = self.cue_sets.get((lang or "").split("-")[0].lower(), self.default_cues)
        hits: list[_Hit] = []
        for m in self.pattern.finditer(text):
            if m["cue"]:
                hit = self._after_cue(text, m, cues)
            elif m["tag"]:
                hit = self._hashtag(m["tag"].replace("_", ""))
            else:
                # A katakana name ending a compound is not the place: "南アメリカの", "ラテンアメリカ".
                inside = m.start() and _KATAKANA.match(m["ja"]) and _COMPOUND.match(text, m.start() - 1)
                hit = None if inside else _decide(self.names[m["ja"]], ())
            if hit:
                hits.append(hit)
        if not hits:
            return None
        qualified = [h for h in hits if h.qualified]
        if qualified:
            return qualified[0].place
        if len({h.place[0] for h in hits}) > 1:
            return hits[0].place
        return max(hits, key=lambda h: h.population).place

    def _after_cue(self, text: str, m: re.Match[str], cues: frozenset[str]) -> _Hit | None:
        cue = " ".join(m["cue"].casefold().split())
        if cue not in cues:
            return None
        before = _WORD_BEFORE.search(text, max(0, m.start() - 24), m.start())
        if before and before[1].casefold() in _ORIGIN:
            return None
        tokens = _tokens(text, m.end())
        if not tokens:
            return None
        found = self._name(tokens, 0)
        if found is None and tokens[0][0].casefold() == "the":
            found = self._name(tokens, 1)
        if found is None:
            return None
        key, end, cands = found
        if cue == "from" and key in _PEOPLE:
            return None
        sep, rest = tokens[end - 1][1], tokens[end:]
        if not rest or sep not in ("", ","):
            return _decide(cands, ())
        quals = self._lookup(rest[:3], qualifier=True)
        hit = _decide(cands, quals)
        if sep == "," or (hit and hit.qualified):
            return hit
        word = rest[0][0]
        if word.casefold() in _THING_AFTER or (key == "jordan" and word[0].isdigit()):  # Jordan 1s
            return None
        if quals or word.casefold() in _SENTENCE_AFTER or word[0].islower() or self._service(rest):
            return hit
        return None  # a capitalised stranger: "Paris Hilton", "China Mobile"

    def _name(self, tokens: list[tuple[str, str]], start: int
              ) -> tuple[str, int, tuple[Candidate, ...]] | None:
        """Longest gazetteer name at ``tokens[start]``: ``(key, end index, candidates)``."""
        for end in range(min(len(tokens), start + 5), start, -1):
            words = tokens[start:end]
            if any(p and not (p == "." and len(w) <= 3) for w, p in words[:-1]):
                continue  # a comma or full stop ends the name; "St." and "Ft." do not
            if words[0][0][0].islower() and words[0][0].casefold() != "the":
                return None
            if any(w[0].islower() and w.casefold() not in _JOINERS for w, _ in words[1:]):
                continue
            key = _norm(" ".join(w for w, _ in words))
            cands = self._lookup(words, qualifier=False)
            if cands:
                return key, end, cands
        word = tokens[start][0] if start < len(tokens) else ""
        if word.casefold() in _DIRECTIONS and not word[0].islower():
            found = self._name(tokens, start + 1)
            if found and found[0] not in ("america", "asia", "africa", "europe"):
                return found
        return None

    def _lookup(self, words: list[tuple[str, str]], *, qualifier: bool) -> tuple[Candidate, ...]:
        """Candidates for the whole of ``words``; short names only in capitals.

        After a place (``qualifier``) a short name may be a region or country code ("TX",
        "ON", "DE"); alone it must be a country abbreviation ("UK", "USA").
        """
        for n in range(len(words), 0, -1) if qualifier else (len(words),):
            if qualifier and any(p and p != "." for _, p in words[:n - 1]):
                continue
            surface = " ".join(w for w, _ in words[:n])
            key = _norm(surface)
            cands = self.names.get(key, ())
            if len(key.replace(".", "")) >= 4 or not key.isascii():
                if cands and not re.sub(r"(?i)^the\s+", "", surface)[0].islower():
                    return cands
                continue
            if not surface.isupper():
                continue
            if qualifier:
                country = len(key) == 2 and pycountry.countries.get(alpha_2=key.upper())
                found = (*cands, Candidate(key.upper(), None, 0, "country")) if country else cands
                if found:
                    return found
            elif any(c.kind == "country" for c in cands):
                return tuple(c for c in cands if c.kind == "country")
        return ()

    def _hashtag(self, tag: str) -> _Hit | None:
        key = _norm(tag)
        if tag[0].islower() or key in _PEOPLE or key == "turkey":
            return None
        cands = self.tags.get(key, ())
        if len(key) < 4 and key.isascii():
            cands = tuple(c for c in cands if c.kind == "country") if tag.isupper() else ()
        return _decide(cands, ()) if cands else None

    def _service(self, words: list[tuple[str, str]]) -> bool:
        return any(" ".join(w for w, _ in words[:n]).casefold() in self.services for n in (1, 2, 3))


def _tokens(text: str, pos: int) -> list[tuple[str, str]]:
    """Up to seven ``(word, trailing punctuation)`` pairs from ``pos``, within one clause."""
    out: list[tuple[str, str]] = []
    while len(out) < 7 and (m := _TOKEN.match(text, pos)):
        out.append((m[1], m[2]))
        pos = m.end()
        if m[2] not in ("", ".", ",") or (m[2] == "." and len(m[1]) > 3):
            break
    return out


def _consistent(cand: Candidate, qual: Candidate) -> bool:
    return cand.country == qual.country and (qual.kind == "country" or qual.region is None
                                             or cand.region == qual.region)


def _decide(cands: tuple[Candidate, ...], quals: tuple[Candidate, ...]) -> _Hit | None:
    """One place from same-named candidates, or ``None`` when no country clearly dominates."""
    narrowed = [c for c in cands if any(_consistent(c, q) for q in quals)]
    pool = narrowed or list(cands)
    best = max(pool, key=lambda c: c.population)
    for other in pool:
        if other.country != best.country and other.population * DOMINANCE > best.population:
            return None  # "Georgia", "Valencia", "Punjab": a coin toss between countries
    rivals = [c for c in pool if c.country == best.country and c.region != best.region]
    clear = all(c.population * DOMINANCE <= best.population for c in rivals)
    return _Hit((best.country, best.region if clear else None), bool(narrowed), best.population)


@lru_cache(maxsize=1)
def default_resolver() -> TextPlaces:
    """The resolver for the packaged gazetteer and catalog, built on first use."""
    return TextPlaces()


def resolve_text(text: str | None, *, lang: str | None = None) -> Place | None:
    """``(country, region or None)`` for a place the post's text says it is in, or ``None``."""
    return default_resolver().resolve(text, lang=lang)
