"""The service catalog: which services we monitor and how posts name them.

The packaged ``data/catalog.toml`` lists the services; a user config file (see
:mod:`outage_signals.config`) can add services or override fields under the same
``[services.KEY]`` tables.

Matching a post to services uses the aliases: ``aliases`` match case-insensitively,
``cased_aliases`` (ordinary words such as "Steam" or "Delta") only with their exact case, both on
word boundaries (an alias inside a longer word does not match; "#ChatGPT" does). A post can
match several services. A service whose ``exclude`` phrase appears in the post is not matched.

:meth:`Catalog.mask` replaces the names of a target service and of every other service with
placeholder tokens, so the relevance classifier learns the shape of a report ("__svc__ is down")
rather than service names, and transfers to services it never saw.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

from outage_signals.config import load_toml, load_user_config
from outage_signals.errors import CatalogError

CATEGORIES = ("ai", "social", "messaging", "games", "streaming", "finance", "isp", "cloud", "airline")

#: Placeholder tokens used by :meth:`Catalog.mask`.
SERVICE_TOKEN = "__svc__"
OTHER_TOKEN = "__other__"

_LIST_FIELDS = ("aliases", "cased_aliases", "search_terms", "exclude", "subreddits")


@dataclass(frozen=True)
class Service:
    """One monitored service. ``key`` is the catalog key used in post records and incidents."""

    key: str
    name: str
    category: str
    aliases: tuple[str, ...] = ()
    cased_aliases: tuple[str, ...] = ()
    search_terms: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    status_page: str | None = None
    #: What ``status_page`` speaks: "statuspage" (the Atlassian Statuspage v2 JSON API, read by
    #: :mod:`outage_signals.statuspage`) or None.
    status_api: str | None = None
    subreddits: tuple[str, ...] = ()

    @classmethod
    def from_table(cls, key: str, table: Mapping[str, Any], origin: str) -> Service:
        """Build from a TOML table; ``origin`` names the file for error messages."""
        where = f"{origin}: [services.{key}]"
        name = table.get("name")
        if not isinstance(name, str) or not name:
            raise CatalogError(f"{where}: 'name' must be a non-empty string")
        category = table.get("category")
        if category not in CATEGORIES:
            raise CatalogError(f"{where}: 'category' must be one of {', '.join(CATEGORIES)}")
        lists: dict[str, tuple[str, ...]] = {}
        for list_name in _LIST_FIELDS:
            value = table.get(list_name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise CatalogError(f"{where}: '{list_name}' must be a list of non-empty strings")
            lists[list_name] = tuple(value)
        status_page = table.get("status_page") or None
        if status_page is not None and not isinstance(status_page, str):
            raise CatalogError(f"{where}: 'status_page' must be a string")
        status_api = table.get("status_api") or None
        if status_api not in (None, "statuspage"):
            raise CatalogError(f"{where}: 'status_api' must be \"statuspage\" or absent")
        if status_api and not status_page:
            raise CatalogError(f"{where}: 'status_api' needs a 'status_page' URL")
        unknown = set(table) - {"name", "category", "status_page", "status_api", *_LIST_FIELDS}
        if unknown:
            raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        # The key, spelled with spaces, counts as a name unless it is an ordinary word that the
        # catalog deliberately matches only with its brand casing ("chase" vs "Chase").
        aliases = lists.pop("aliases")
        spoken = key.replace("-", " ")
        if spoken.casefold() not in {a.casefold() for a in (*aliases, *lists["cased_aliases"])}:
            aliases = (*aliases, spoken)
        aliases = tuple(dict.fromkeys(aliases))
        return cls(key=key, name=name, category=category, aliases=aliases,
                   status_page=status_page, status_api=status_api, **lists)


@dataclass
class Catalog:
    """The set of services, with alias matching and masking built once."""

    services: dict[str, Service] = field(default_factory=dict)

    def __contains__(self, key: object) -> bool:
        return key in self.services

    def __iter__(self):
        return iter(self.services.values())

    def __len__(self) -> int:
        return len(self.services)

    def get(self, key: str) -> Service:
        """The service for ``key``; an unknown key raises :class:`CatalogError` with a hint."""
        try:
            return self.services[key]
        except KeyError:
            close = difflib.get_close_matches(key, list(self.services), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise CatalogError(
                f"unknown service {key!r}{hint}; 'outage-signals services' lists them"
            ) from None

    @cached_property
    def _patterns(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None,
                                 dict[str, set[str]], dict[str, set[str]]]:
        folded: dict[str, set[str]] = {}
        cased: dict[str, set[str]] = {}
        for svc in self.services.values():
            for alias in svc.aliases:
                folded.setdefault(alias.casefold(), set()).add(svc.key)
            for alias in svc.cased_aliases:
                cased.setdefault(alias, set()).add(svc.key)
        return (_alternation(folded, re.IGNORECASE), _alternation(cased, 0), folded, cased)

    @cached_property
    def _excludes(self) -> dict[str, tuple[str, ...]]:
        return {s.key: tuple(e.casefold() for e in s.exclude) for s in self.services.values()}

    def _mentions(self, text: str) -> list[tuple[int, int, set[str]]]:
        """``(start, end, services)`` for each alias occurrence, non-overlapping, in order."""
        folded_re, cased_re, folded, cased = self._patterns
        spans: list[tuple[int, int, set[str]]] = []
        if folded_re is not None:
            for m in folded_re.finditer(text):
                spans.append((m.start(), m.end(), folded[m.group(0).casefold()]))
        if cased_re is not None:
            for m in cased_re.finditer(text):
                if not any(s < m.end() and m.start() < e for s, e, _ in spans):
                    spans.append((m.start(), m.end(), cased[m.group(0)]))
        spans.sort(key=lambda span: span[0])
        return spans

    def match(self, text: str) -> list[str]:
        """Catalog keys of the services ``text`` names, in order of first mention."""
        found: dict[str, None] = {}
        for _, _, keys in self._mentions(text):
            for key in sorted(keys):
                found.setdefault(key)
        if not found:
            return []
        lowered = text.casefold()
        return [k for k in found if not any(e in lowered for e in self._excludes.get(k, ()))]

    def mask(self, text: str, service: str | None) -> str:
        """``text`` with names of ``service`` replaced by ``__svc__`` and of others by ``__other__``.

        An alias shared by ``service`` and another service counts as ``service``.
        """
        pieces: list[str] = []
        last = 0
        for start, end, keys in self._mentions(text):
            pieces.append(text[last:start])
            pieces.append(f" {SERVICE_TOKEN} " if service in keys else f" {OTHER_TOKEN} ")
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    def by_category(self) -> dict[str, list[Service]]:
        """Services grouped by category, in :data:`CATEGORIES` order."""
        groups: dict[str, list[Service]] = {c: [] for c in CATEGORIES}
        for svc in self.services.values():
            groups[svc.category].append(svc)
        return {c: v for c, v in groups.items() if v}


def _alternation(aliases: Mapping[str, Any], flags: int) -> re.Pattern[str] | None:
    if not aliases:
        return None
    # A trie of the aliases: the engine follows one branch per character instead of trying
    # hundreds of alternatives at every position (masking is on the classifier's hot path).
    # Greedy optional tails make the longest alias win, so "microsoft teams" beats "teams".
    body = _trie_pattern(sorted(aliases))
    # Word boundaries: "chatgptapp" or "unsteam" never match, while "#ChatGPT" and "@discord"
    # (a tag or handle that is the brand itself) do.
    # Kana, kanji and hangul count as word characters to the regex engine, yet Japanese
    # writes "Discordが落ちてる" with no space: only letters and digits of other scripts
    # block a match.
    return re.compile(rf"(?<!{_NAME_CHAR})(?:{body})(?!{_NAME_CHAR})", flags)


#: A character that continues a name: a word character outside CJK, kana and hangul.
_NAME_CHAR = "[^\\W\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]"


def _trie_pattern(words: list[str]) -> str:
    """A regular expression matching exactly ``words``, factored by common prefixes."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # end of a word

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return emit(trie)


def _tables(data: Mapping[str, Any], origin: str) -> dict[str, Mapping[str, Any]]:
    services = data.get("services", {})
    if not isinstance(services, Mapping):
        raise CatalogError(f"{origin}: [services] must be a table of tables")
    for key, table in services.items():
        if not isinstance(table, Mapping):
            raise CatalogError(f"{origin}: [services.{key}] must be a table")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", key):
            raise CatalogError(f"{origin}: service key {key!r} must be lowercase letters, digits, '-'")
    return dict(services)


def packaged_tables() -> dict[str, Mapping[str, Any]]:
    """The packaged catalog's raw tables."""
    ref = resources.files("outage_signals") / "data" / "catalog.toml"
    with resources.as_file(ref) as path:
        return _tables(load_toml(path), "packaged catalog.toml")


def build_catalog(*layers: tuple[Mapping[str, Any], str]) -> Catalog:
    """Merge ``(tables, origin)`` layers, later ones overriding fields of earlier ones."""
    merged: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for tables, origin in layers:
        for key, table in tables.items():
            merged.setdefault(key, {}).update(table)
            origins[key] = origin
    return Catalog({k: Service.from_table(k, t, origins[k]) for k, t in merged.items()})


def load_catalog(config: Mapping[str, Any] | None = None, origin: str = "user config") -> Catalog:
    """The packaged catalog overlaid with the user config's ``[services]`` tables.

    ``config`` defaults to :func:`~outage_signals.config.load_user_config`.
    """
    if config is None:
        config = load_user_config()
    return build_catalog((packaged_tables(), "packaged catalog.toml"), (_tables(config, origin), origin))


def services_for(post_service: str | None, text: str, catalog: Catalog) -> list[str]:
    """The services a post counts for: its own ``service`` field if set, else alias matches."""
    if post_service:
        return [post_service]
    return catalog.match(text)

