"""Place names in a post's own words: the text step of the location chain (issue 6).

A gazetteer name counts only where the post says the trouble is *somewhere*: after a locative
cue word ("down all over Lisbon", "caído en Madrid", "panne à Lyon"), as a capitalised hashtag
("#Madrid"), or in Japanese before a particle ("東京で", "札幌周辺"). A wrong country is worse
than none, so doubt gives ``None``: names must be capitalised; under four letters only
capitalised countries count ("UK", not "LA" or "NYC"); what follows may show the name is part
of something else ("Paris Hilton", "Victoria's Secret", "Jordan shoes"); "made in China" is an
origin; service names never count; a name shared across countries needs a clear population
lead (:data:`DOMINANCE`) or a qualifier ("Atlanta, Georgia", "Paris, TX", "London Ontario").
Of several places the first qualified one wins, else the most populous, or the first if they
disagree on the country. Speed: one precompiled expression finds cue words before a capital
(two more with literal first characters find hashtags and Japanese names); a hit costs a few
dict look-ups, and a post without one costs only the scans.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import pycountry

from outage_signals.catalog import Catalog, load_catalog
from outage_signals.gazetteer import (
    TOWN_WORDS,
    Candidate,
    base_forms,
    gazetteer,
    is_cyrillic,
    leader,
    lookup,
)
from outage_signals.gazetteer import normalize as _norm
from outage_signals.gazetteer import towns as town_table


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Locative cue words by language (ISO 639-1); "here in" and "aqui em" end in a cue already.
CUES: dict[str, tuple[str, ...]] = {
    "en": ("in", "across", "around", "all over", "throughout", "whole of", "near", "from"),
    "es": ("en", "por todo", "por toda"),
    "pt": ("em", "no", "na"),
    "de": ("in", "im", "bei", "ganz"),
    "fr": ("à", "a", "en", "dans", "sur"),
    "it": ("a", "in", "su"),
    "nl": ("in", "te", "rond"),
    "sv": ("i",), "no": ("i",), "nb": ("i",), "da": ("i",),
    "ro": ("în", "in"), "id": ("di",), "tr": (),
    "pl": ("w", "we", "na"), "cs": ("v", "ve", "na"), "sk": ("v", "vo", "na"),
    "ru": ("в", "во", "на"), "uk": ("в", "у", "на"), "hu": (), "fi": (),
}
#: Cue words that count only when the post's language is known to use them: English "w" is
#: "with", "v" is "versus".
_LANG_REQUIRED = frozenset({"w", "we", "v", "ve", "vo"})
#: Languages that decline place names ("w Krakowie", "Budapesten", "Helsingissä"): there the
#: name's dictionary forms are tried (:func:`~outage_signals.gazetteer.base_forms`). Cyrillic
#: names are tried whatever the language says.
INFLECTING = frozenset({"pl", "cs", "sk", "ru", "uk", "be", "bg", "hu", "fi", "et", "hr", "sr", "sl",
                        "lt", "lv"})
#: Cue words that count in capitals only when the post's language is known to use them
#: (English "I" before a capitalised word is the pronoun; "i Bergen" is Norwegian).
_KNOWN_LANG_ONLY = frozenset({"i", "di"})
#: After a cue word, a name only the GeoNames town table knows counts from this many people.
TOWN_MIN_POPULATION = 50_000
#: A name with no cue word before it ("Telstra outage Melbourne CBD") counts only for a city or
#: region of at least this many people, or a country: small places are too often something
#: else ("Reading", "Mobile", "Nice").
BARE_MIN_POPULATION = 500_000
# Countries and regions whose bare name is more often a thing: Thanksgiving, plates, a pig.
_NOT_BARE = frozenset(["turkey", "chad", "china", "guinea", "jersey", "georgia", "jordan", "niger", "amazon"])
#: The largest of same-named places must be this many times larger than any namesake abroad.
DOMINANCE = 4.5

# English puts "a" and "no" before capitalised nouns ("a Chicago pizza"): unless the post's
# language is known, the place must then end the clause or go on in Romance words.
_LANG_ONLY = _words("a no")
_ROMANCE_AFTER = _words("da de desde depuis non não pas e et ma mais pure anche também oggi hoje inteiro")
# Names far more often something else: a programming language, Christmas ("no Natal"), a party
# ("En Marche"), the train ("im Zug"), a nickname of both California and Cali, Colombia.
_NEVER = _words("java natal marche zug cali")
# Also given names: after "from" and as hashtags they are people ("an email from Jordan").
_PEOPLE = _words("jordan chad georgia victoria florence charlotte madison jackson austin dallas houston "
                 "lincoln aurora savannah brooklyn regina sofia salvador adelaide darwin hamilton preston "
                 "chandler gilbert lawrence henderson montgomery paris sydney santiago augusta eugene "
                 "phoenix chelsea")
# Nouns that make the place before them a thing: sneakers, food, tableware, fonts, clubs, media.
_THING_AFTER = _words("shoes shoe sneakers retro retros dinner sandwich breast roast burger bacon leg legs "
                      "duck chocolate trot plate plates porcelain dishes cabinet doll font fonts typeface "
                      "post times "
                      "tribune herald fc united city county rovers hilton secret syndrome agreement accords "
                      "mobile telecom unicom airlines airways instruments roadhouse")
# Words that name a club or paper in capitals ("Manchester City") but the place in lower case.
_PLACE_WORDS = _words("city county")
# Capitalised words that may follow a place without making it part of a longer proper name.
_SENTENCE_AFTER = _words(
    "i is are anyone anybody any everyone still since now today tonight again and but or so too on for at "
    "with right rn atm lol lmao smh wtf omg ugh help please pls why what it my no not just also all this "
    "down outage internet wifi service power seit heute jetzt gerade auch kein keine und wieder netz wlan "
    "störung ausfall handy empfang hoy desde sin ya ahora hoje sem agora depuis et pas panne encore oggi "
    "anche non ancora sinds vandaag geen ook storing cbd")
# Before a bare name these make it an attribute of a thing ("a London bus", "the Paris trip").
_DETERMINERS = _words("a an the my our your his her their this that these those le la les un une "
                      "el los las una der die das ein eine den dem het een il lo gli uma um o")
# Before a bare name these make it a destination, not where the trouble is ("flight to Lisbon").
_TRAVEL = _words("to towards toward nach para pour vers naar verso")
# Lower-case words allowed inside a multi-word name ("Rio de Janeiro", "Frankfurt am Main").
_JOINERS = _words("de do da dos das del la las los el y e and of the upon on am an der du des en di")
# A direction before a name is skipped ("in South London"), but not before a continent.
_DIRECTIONS = _words("north south east west central downtown northern southern eastern western nord süd "
                     "sud ost norte")
_CONTINENTS = _words("america asia africa europe")
# Words before the cue that make it an origin, not a location ("made in China").
_ORIGIN = _words("made born raised designed manufactured assembled hecho fabricado fabriqué fatto feito "
                 "hergestellt")

_UPPER = "".join(re.escape(c) for c in map(chr, [*range(0x41, 0x250), *range(0x1E00, 0x1F00)])
                 if c.isupper())
_CASELESS = r"[^\W\d_\u0000-\u024f\u1e00-\u1eff]"  # a letter of another script: 東, Москва
_TAG = re.compile(r"(?<![\w#&])#([^\W_]\w*)")
_KATAKANA = re.compile("[\u30a0-\u30ff]")
# Scripts written without spaces between words: Hangul syllables, Thai, Lao, Burmese, Khmer.
_JOINED = re.compile("[\uac00-\ud7af\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
# Other scripts without capitals: Greek, Cyrillic, Armenian, Hebrew, Arabic, the Indic scripts
# (Devanagari to Sinhala), Georgian, Ethiopic.
_SPACED = re.compile("[\u0370-\u03ff\u0400-\u04ff\u0530-\u06ff\u0900-\u0dff\u10a0-\u10ff"
                     "\u1200-\u137f]")
_OTHER_SCRIPT = re.compile("[\u0370-\u17ff\uac00-\ud7af]")
# Hebrew and Arabic write "in", "to", "and" as one letter joined to the name ("בחיפה", "بدبي").
_PREFIX_LETTER = "\u05d1\u05dc\u05de\u05d4\u05d5\u05db\u05e9\u0628\u0644\u0648\u0641\u0643"
_COMPOUND = re.compile("[\u30a0-\u30ff南北中東西央]")  # before katakana: "南アメリカ" is no America
# A word of a name ("." continues it only before a letter, as in "D.C."), then its punctuation.
_TOKEN = re.compile(r"([^\W_](?:[\w'’&\-]|\.(?=[^\W\d_]))*)([^\w\s]*)[ \t\u00a0]*")
_SUFFIXED = re.compile(r"(\w+)['’](?![sS]$)\w{1,4}$")  # not the English possessive
_WORD_BEFORE = re.compile(r"(\w+)\W*$")

Place = tuple[str, str | None]
Tokens = list[tuple[str, str]]  # (word, punctuation after it)


class _Hit(NamedTuple):
    place: Place
    qualified: bool
    population: int


class TextPlaces:
    """Resolver built once from the gazetteer and a catalog (the packaged one by default)."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        catalog = load_catalog({}) if catalog is None else catalog
        self.services = frozenset(a.casefold() for s in catalog for a in (*s.aliases, *s.cased_aliases))
        unwanted = self.services | _NEVER
        self.names = {k: v for k, v in gazetteer().items() if k not in unwanted}
        self.untowned = unwanted | _PEOPLE | TOWN_WORDS
        self.tags: dict[str, tuple[Candidate, ...]] = {}
        for key, cands in self.names.items():  # hashtags drop spaces: #SaoPaulo, #NewYork
            tag = re.sub(r"[\s.'’\-]", "", key)
            self.tags[tag] = self.tags.get(tag, ()) + cands
        cues = sorted({c for cs in CUES.values() for c in cs}, key=len, reverse=True)
        cue_re = "|".join(re.escape(c).replace("\\ ", r"\s+") for c in cues)
        self.cue_re = re.compile(rf"(?<![\w#@'’\-])(?i:{cue_re})\s+"
                                 rf"(?=(?i:the\s+)?(?:[{_UPPER}]|{_CASELESS}))")
        japanese = sorted((k for k in self.names if re.search("[\u3040-\u9fff]", k)), key=len, reverse=True)
        # Japanese and Chinese: before a particle, an "around here" word or an outage word
        # ("東京で", "上海这边", "台中停電").
        self.ja_re = re.compile(f"({'|'.join(map(re.escape, japanese))})"
                                "(?=で|の|は|周辺|全域|这边|这里|那边|附近|一带|地区"
                                # Chinese has no particles: an outage word right after the
                                # name ("台中停電了", "上海断网").
                                "|停電|停电|断网|斷網|断电|斷電|没网|沒網|网络|網路|全城|全市)")
        # Chinese puts "在" (at, in) before the name: "在上海 微信 打不开". A literal first
        # character keeps the scan fast.
        self.zh_re = re.compile(f"在({'|'.join(map(re.escape, japanese))})")
        # Scripts without capitals: Korean and Thai names may run into what is around them
        # ("서울인데"; Thai has no spaces: "ในกรุงเทพ"); elsewhere (Arabic, Devanagari,
        # Cyrillic...) a whole word.
        joined = [k for k in self.names if _JOINED.match(k)]
        # The table is lower case; Greek and Cyrillic names are capitalised in the text.
        spaced = {f for k in self.names if _SPACED.match(k) for f in (k, k[0].upper() + k[1:])}
        self.script_re = re.compile(
            "(?:(" + "|".join(map(re.escape, sorted(joined, key=len, reverse=True))) + ")"
            "|(?:(?<!\\w)|(?<=(?<!\\w)[" + _PREFIX_LETTER + "]))("
            + "|".join(map(re.escape, sorted(spaced, key=len, reverse=True))) + ")(?!\\w))")
        self.bare_re = re.compile(rf"(?<![\w#@'’\-.])(?=[{_UPPER}])")
        self.cue_sets = {lang: frozenset(cs) for lang, cs in CUES.items()}
        self.all_cues = frozenset(c for cs in CUES.values() for c in cs)

    def resolve(self, text: str | None, *, lang: str | None = None) -> Place | None:
        """``(country, region or None)`` for the place ``text`` says it is in, or ``None``.

        ``lang`` (ISO 639-1 as X and Bluesky report it, e.g. "pt" or "pt-BR") limits the cue
        words to that language's; an unknown or missing language allows all of them.
        """
        if not text:
            return None
        code = (lang or "").split("-")[0].lower()
        cues = self.cue_sets.get(code)
        inflect = code in INFLECTING
        found = [(m.start(), self._after_cue(text, m, cues, inflect))
                 for m in self.cue_re.finditer(text)]
        found += [(m.start(), self._hashtag(m[1].replace("_", ""))) for m in _TAG.finditer(text)]
        for m in self.ja_re.finditer(text):
            inside = m.start() and _KATAKANA.match(m[1]) and _COMPOUND.match(text, m.start() - 1)
            found.append((m.start(), None if inside else _decide(self.names[m[1]], ())))
        if "在" in text:
            found += [(m.start(), _decide(self.names[m[1]], ())) for m in self.zh_re.finditer(text)]
        # Most posts are in Latin script: one character-class scan spares them the long
        # alternation of names in other scripts.
        scripts = self.script_re.finditer(text) if _OTHER_SCRIPT.search(text) else ()
        for m in scripts:
            found.append((m.start(), _decide(self.names[(m[1] or m[2]).lower()], ())))
        hits = [hit for _, hit in sorted(found, key=lambda f: f[0]) if hit]
        if not hits:
            hits = [hit for hit in (self._bare(text, m.start(), inflect)
                                    for m in self.bare_re.finditer(text)) if hit]
        if not hits:
            return None
        qualified = [h for h in hits if h.qualified]
        if qualified:
            return qualified[0].place
        if len({h.place[0] for h in hits}) > 1:
            return hits[0].place
        return max(hits, key=lambda h: h.population).place

    def _after_cue(self, text: str, m: re.Match[str], cues: frozenset[str] | None,
                   inflect: bool) -> _Hit | None:
        cue = " ".join(m[0].casefold().split())
        if cue not in (cues or self.all_cues) or (cues is None and cue in _KNOWN_LANG_ONLY
                                                   and not m[0].islower()):
            return None
        if cues is None and cue in _LANG_REQUIRED:
            # Without a language tag "w" and "v" are English shorthand ("w Paris" is "with");
            # only a name in a declined form ("w Gdańsku", "v Brně") shows the cue is Slavic.
            first = _tokens(text, m.end())[:1]
            key = _norm(first[0][0]) if first else ""
            if not key or key in self.names or not any(
                    lookup(self.names, base) for base in base_forms(key)):
                return None
            inflect = True
        before = _WORD_BEFORE.search(text, max(0, m.start() - 24), m.start())
        tokens = _tokens(text, m.end())
        if (before and before[1].casefold() in _ORIGIN) or not tokens:
            return None
        found = self._name(tokens, 0, inflect)
        if found is None and tokens[0][0].casefold() == "the":
            found = self._name(tokens, 1, inflect)
        if found is None or (cue == "from" and found[0] in _PEOPLE):
            return None
        key, end, cands = found
        sep, rest = tokens[end - 1][1], tokens[end:]
        if not rest or sep not in ("", ","):
            return _decide(cands, ())
        # Codes such as "ON" or "IN" qualify only where the name is not shouted in capitals.
        quals = next(filter(None, (self._lookup(rest[:n], codes=not tokens[end - 1][0].isupper())
                                   for n in (3, 2, 1) if len(rest) >= n)), ())
        hit = _decide(cands, quals)
        if hit and hit.qualified:
            return hit
        word = rest[0][0].casefold()
        if cues is None and cue in _LANG_ONLY and sep == "" and word not in _ROMANCE_AFTER:
            return None
        if sep == "," or quals or (self._service(rest) and word not in _THING_AFTER):
            return hit
        if (word in _THING_AFTER and not (word in _PLACE_WORDS and rest[0][0].islower())) or (
                key == "jordan" and word[0].isdigit()):  # "Jordan 1s"; "Galway city" is a place
            return None
        # A capitalised stranger extends the name: "Paris Hilton", "China Mobile".
        return hit if word in _SENTENCE_AFTER or rest[0][0][0].islower() else None

    def _bare(self, text: str, pos: int, inflect: bool) -> _Hit | None:
        """A big place named with no cue word before it, where nothing says it is part of a
        longer name: "KPN storing Rotterdam?", "Telekom Störung München"."""
        before = _WORD_BEFORE.search(text, max(0, pos - 24), pos)
        tokens = _tokens(text, pos)
        # A case ending says "in/at the place" ("Türk Telekom Bursa'da çöktü"): no longer name
        # can go on from the word before.
        located = bool(tokens) and _SUFFIXED.match(tokens[0][0]) is not None
        if before and ((before[1][0].isupper() and before[1].casefold() not in _SENTENCE_AFTER
                        and not located)
                       or before[1].casefold() in _DETERMINERS or before[1].casefold() in _TRAVEL):
            return None  # "Real Madrid", "a London bus", "my Paris trip", "flight to Lisbon"
        found = self._name(tokens, 0, inflect) if tokens else None
        if found is None:
            return None
        key, end, cands = found
        if cut := _SUFFIXED.match(key):
            key = cut[1]  # "istanbul'da" is Istanbul
        if key in _PEOPLE or key in _NOT_BARE or not any(
                c.kind == "country" or (c.kind in ("city", "region")
                                        and c.population >= BARE_MIN_POPULATION) for c in cands):
            return None
        cands = tuple(c for c in cands if c.kind in ("country", "city", "region"))
        rest = tokens[end:]
        suffixed = _SUFFIXED.match(tokens[end - 1][0])  # "İstanbul'da" ends the name
        if rest and tokens[end - 1][1] == "" and not suffixed:
            word = rest[0][0]
            if word.casefold() in _THING_AFTER or (word[0].isupper()
                                                   and word.casefold() not in _SENTENCE_AFTER):
                return None  # "Boston Dynamics", "Canada Goose"
        return _decide(cands, ())

    def _name(self, tokens: Tokens, start: int, inflect: bool = False
              ) -> tuple[str, int, tuple[Candidate, ...]] | None:
        """Longest name at ``tokens[start]``: ``(key, index after it, candidates)``; with
        ``inflect``, a one-word name may be declined ("w Krakowie")."""
        for end in range(min(len(tokens), start + 5), start, -1):
            words = tokens[start:end]
            if any(p and not (p == "." and len(w) <= 3) for w, p in words[:-1]):
                continue  # a comma or full stop ends a name; "St." and "Ft." do not
            if words[0][0][0].islower() and words[0][0].casefold() != "the":
                return None
            if any(w[0].islower() and w.casefold() not in _JOINERS for w, _ in words[1:]):
                continue
            cands = self._lookup(words, towns=True, inflect=inflect)
            if cands:
                return _norm(" ".join(w for w, _ in words)), end, cands
        word = tokens[start][0] if start < len(tokens) else ""
        if word.casefold() in _DIRECTIONS and not word[0].islower():
            found = self._name(tokens, start + 1, inflect)
            return found if found and found[0] not in _CONTINENTS else None
        return None

    def _lookup(self, words: Tokens, *, codes: bool = False, towns: bool = False,
                inflect: bool = False) -> tuple[Candidate, ...]:
        """Candidates for the whole of ``words``; short names only in capitals, and then only
        countries ("UK"), or with ``codes`` (after a place) region and country codes ("TX");
        declined forms of a one-word city, region or country with ``inflect`` or in Cyrillic."""
        if any(p and p != "." for _, p in words[:-1]):
            return ()
        surface = " ".join(w for w, _ in words)
        key = _norm(surface)
        cands = self.names.get(key, ())
        if not cands and len(words) == 1 and (cut := _SUFFIXED.match(surface)):
            surface, key = cut[1], _norm(cut[1])  # Turkish "İstanbul'da", "Ankara’da"
            cands = self.names.get(key, ())
        if not cands and len(words) == 1 and (inflect or is_cyrillic(key)):
            cands = next(filter(None, (lookup(self.names, base) for base in base_forms(key))), ())
        if towns and not cands and len(key) >= 4 and key not in self.untowned:
            # A town the curated table lacks ("i Bergen", "in Galway"): big enough to be meant.
            cands = tuple(c for c in town_table().get(key, ()) if c.population >= TOWN_MIN_POPULATION)
        if len(key.replace(".", "")) >= 4 or not key.isascii():
            return cands if cands and not re.sub(r"(?i)^the\s+", "", surface)[0].islower() else ()
        if len(key) == 3 and surface.istitle():  # "Rio", but not "Ely" or "Bar"
            return tuple(c for c in cands if c.population >= BARE_MIN_POPULATION)
        if not surface.isupper():
            return ()
        if not codes:  # "UK", and three-letter nicknames in capitals: "NYC", "ATL", "KSA"
            return tuple(c for c in cands if c.kind == "country"
                         or (c.kind == "nickname" and len(key) == 3))
        if len(key) == 2 and pycountry.countries.get(alpha_2=key.upper()):
            cands = (*cands, Candidate(key.upper(), None, 0, "country"))  # "Toronto, CA"
        return cands

    def _hashtag(self, tag: str) -> _Hit | None:
        key = _norm(tag)
        if tag[0].islower() or key in _PEOPLE or key == "turkey":  # #Turkey is Thanksgiving
            return None
        cands = self.tags.get(key, ())
        if len(key) < 4 and key.isascii():
            cands = tuple(c for c in cands if c.kind == "country") if tag.isupper() else ()
        return _decide(cands, ()) if cands else None

    def _service(self, words: Tokens) -> bool:
        return any(" ".join(w for w, _ in words[:n]).casefold() in self.services for n in (1, 2, 3))


def _tokens(text: str, pos: int) -> Tokens:
    """Up to seven words from ``pos``, stopping after a clause ends ("!", "?", a full stop)."""
    out: Tokens = []
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
    """One place from same-named candidates, or ``None`` when no country clearly leads."""
    narrowed = [c for c in cands if any(_consistent(c, q) for q in quals)]
    pool = narrowed or list(cands)
    best = leader(pool, DOMINANCE)
    if best is None:
        return None  # "Georgia", "Punjab": a coin toss between countries
    rivals = [c for c in pool if c.country == best.country and c.region != best.region]
    clear = all(c.population * DOMINANCE <= best.population for c in rivals)
    return _Hit((best.country, best.region if clear else None), bool(narrowed), best.population)


@lru_cache(maxsize=1)
def default_resolver() -> TextPlaces:
    """The resolver for the packaged gazetteer and catalog, built on first use."""
    return TextPlaces()


def resolve_text(text: str | None, *, lang: str | None = None) -> Place | None:
    """``(country, region or None)`` for a place the post's text puts it in, or ``None``."""
    return default_resolver().resolve(text, lang=lang)
