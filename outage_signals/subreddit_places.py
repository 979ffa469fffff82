"""Where a Reddit post comes from, judged by its subreddit: the last step of the location chain.

A post in r/berlin or r/CasualUK most likely comes from Berlin or the UK, even when it names no
place. The packaged table ``data/subreddits.tsv`` lists geographic communities whose place is
unambiguous (r/georgia, state or country, is deliberately absent); any other subreddit, such
as r/sysadmin or r/ChatGPT, gives ``None``. Regions are ISO 3166-2 first-level codes, ``None``
where the community is country-wide.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

Place = tuple[str, str | None]


@lru_cache(maxsize=1)
def subreddit_table() -> dict[str, Place]:
    """Subreddit (lowercase, no "r/") -> ``(country, region or None)``, from the packaged TSV.

    Lines starting with "#" are comments; the first other line is the column header.
    """
    ref = resources.files("outage_signals") / "data" / "subreddits.tsv"
    table: dict[str, Place] = {}
    rows = [(n, line) for n, line in enumerate(ref.read_text(encoding="utf-8").splitlines(), 1)
            if line.strip() and not line.startswith("#")]
    for number, line in rows[1:]:
        fields = line.split("\t")
        if len(fields) != 4 or not fields[0] or len(fields[1]) != 2:
            # The file ships with the package: a bad line is a bug, reported where it is.
            raise ValueError(f"subreddits.tsv line {number}: expected subreddit, country, region, note")
        name, country, region, _note = fields
        table[name.casefold()] = (country, region or None)
    return table


def resolve_subreddit(name: str | None) -> Place | None:
    """``(country, region or None)`` for a geographic subreddit, else ``None``.

    ``name`` may carry an "r/" or "/r/" prefix and any case: "r/CasualUK", "berlin".
    """
    if not name:
        return None
    key = name.strip().casefold().removeprefix("/").removeprefix("r/").strip("/")
    return subreddit_table().get(key)
