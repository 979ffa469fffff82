"""Speed benchmark of the location chain: posts located per second, one core.

Rerun from the repository root::

    /work/venv/bin/python benchmarks/locate_speed.py [--posts 100000] [--repeat 5] [--json]

The posts are the bundled sample streams (``data/samples/*.jsonl.gz``: simulated posts whose
fields are filled in the proportions a mixed X/Reddit stream has: about a quarter with a
profile location, a fifth from a subreddit, 2% with an X place) cycled to ``--posts``. To
every post whose profile is empty, one in four gets a profile string from the labelled
location cases (``data/locations/cases.jsonl``: cities, nicknames, native names, flags, junk)
and one in fifty exact coordinates, so each step of the chain (place, coordinates, profile,
text, subreddit) is exercised. Every profile string gets a unique suffix from a list of
qualifiers and junk so that no cache could answer it from an earlier post.

Timed: :func:`outage_signals.locating.annotate` over the whole batch, the median of
``--repeat`` runs. Target: >= 20,000 posts per second. Single process.
"""

from __future__ import annotations

import argparse
import copy
import json
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from machine import describe, one_line  # noqa: E402

from outage_signals import locating  # noqa: E402
from outage_signals.jsonl import read_posts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET = 20_000
# Appended to profile strings so that every one is new to any cache: a bio part, a qualifier.
TAILS = ("", " | views my own", " · she/her", " • dog person", " (for now)", " 🌍", " | est. {n}")


def make_posts(n: int, seed: int = 0) -> list:
    rng = random.Random(seed)
    samples = []
    for path in sorted((ROOT / "data" / "samples").glob("*.jsonl.gz")):
        samples.extend(read_posts(path))
    profiles = []
    for line in (ROOT / "data" / "locations" / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        if case["post"].get("user_location"):
            profiles.append(case["post"]["user_location"])
    out = []
    for i in range(n):
        post = _copy(samples[i % len(samples)])
        if post.user_location:
            post.user_location = f"{post.user_location}{rng.choice(TAILS).format(n=i)}"
        elif rng.random() < 0.25:
            post.user_location = f"{rng.choice(profiles)}{rng.choice(TAILS).format(n=i)}"
        if rng.random() < 0.02:
            post.coordinates = (rng.uniform(-125, 150), rng.uniform(-45, 65))
        out.append(post)
    return out


def _copy(post):
    """A shallow copy with its own ``extra``, so a run's locations never reach the next run."""
    out = copy.copy(post)
    out.extra = dict(post.extra)
    return out


def run(posts: list, repeat: int) -> tuple[float, Counter]:
    times = []
    methods: Counter = Counter()
    for _ in range(repeat):
        batch = [_copy(p) for p in posts]
        start = time.perf_counter()
        locating.annotate(batch)
        times.append(time.perf_counter() - start)
        methods = Counter((p.extra["location"] or {}).get("method") for p in batch)
    return statistics.median(times), methods


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    posts = make_posts(args.posts)
    locating.annotate([_copy(p) for p in posts[:2000]])  # load tables before timing
    seconds, methods = run(posts, args.repeat)
    rate = len(posts) / seconds
    if args.json:
        print(json.dumps({"posts": len(posts), "seconds": round(seconds, 3),
                          "posts_per_second": round(rate), "target": TARGET,
                          "methods": {str(k): v for k, v in methods.items()},
                          "machine": one_line(describe())}))
        return 0
    print(f"{len(posts):,} posts, one core")
    print(f"location chain     {rate:>9,.0f} posts/s  (target {TARGET:,})")
    share = ", ".join(f"{k or 'none'} {v / len(posts):.1%}" for k, v in methods.most_common())
    print(f"answered by        {share}")
    print(f"machine: {one_line(describe())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
