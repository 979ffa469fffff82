"""Offline reverse geocoding: exact post coordinates to country and first-level region.

Input is ``(lon, lat)`` in degrees (WGS84), the order of GeoJSON and of the post record's
``coordinates``, never ``(lat, lon)``. The answer is ``(country, region)``: an ISO 3166-1
alpha-2 code (GeoNames' ``XK`` for Kosovo) and an ISO 3166-2 first-level code such as ``US-TX``,
or ``None`` for the region where the packaged table maps none for that country. The whole answer
is ``None`` when the nearest known place is more than :data:`MAX_DISTANCE_KM` km away.

The answer is that of the nearest place, by great-circle distance, among the ~69,000 places of
``data/cities.tsv.gz`` (GeoNames cities5000, CC BY 4.0, built by ``scripts/build-cities``).
Nearest place stands in for the polygon that contains the point, so within a few km of a
border it can name the neighbour (west Windsor, Ontario, is closer to downtown Detroit than to
Windsor's own centre point); away from borders it is right.

Cost, one core: the table loads on first use (about 0.15 s, then cached for the process); a
batch query costs about 30 µs a point, a single call about 100 µs, most of it scikit-learn's
input checks, so :func:`reverse_many` is the one to use on a stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.neighbors import BallTree

from outage_signals.gazetteer import CITY_COLUMNS, city_fields

#: ``(country, region)``: ISO 3166-1 alpha-2 and ISO 3166-2 first-level code (or ``None``).
Location = tuple[str, str | None]

#: Farther than this from every place in the table, a point gets no location. Within 200 km of
#: a place of 5000 people lies nearly all inhabited land (the gaps are the central Sahara, the
#: Australian interior, the Arctic, where posts are rare), while open sea, mid-ocean flights
#: and Antarctica (about 1,000 km from Ushuaia at the closest) fall outside. 200 km also keeps
#: a coastal ferry or beach post, which is worth its country.
MAX_DISTANCE_KM = 200.0

#: Mean Earth radius (IUGG), km: turns the haversine distance in radians into km.
EARTH_RADIUS_KM = 6371.0088

# Small leaves cost a few ms more to build and make queries faster: 30 µs a point at 5 against
# 70 µs at sklearn's default of 40 (dense cities mean many points within a leaf's ball).
_LEAF_SIZE = 5


@dataclass(frozen=True)
class _Index:
    """The place table, ready to query."""

    tree: BallTree  # over (lat, lon) in radians, haversine metric
    answers: tuple[Location, ...]  # the distinct (country, region) pairs
    answer_of: np.ndarray  # int32, one per place: its pair's position in ``answers``


@lru_cache(maxsize=1)
def _index() -> _Index:
    """Read ``data/cities.tsv.gz`` and build the tree, once per process."""
    fields, width = city_fields(), len(CITY_COLUMNS)
    lat = np.array(fields[1::width], dtype=float)
    lon = np.array(fields[2::width], dtype=float)
    pairs: dict[Location, int] = {}
    answer_of = np.fromiter(
        (pairs.setdefault((country, region or None), len(pairs))
         for country, region in zip(fields[3::width], fields[4::width], strict=True)),
        dtype=np.int32, count=len(lat))
    # scikit-learn's haversine metric takes (lat, lon) in radians: the reverse of our input.
    tree = BallTree(np.radians(np.column_stack([lat, lon])), metric="haversine", leaf_size=_LEAF_SIZE)
    return _Index(tree=tree, answers=tuple(pairs), answer_of=answer_of)


def _as_points(points: Sequence[tuple[float, float]] | np.ndarray) -> np.ndarray:
    """``points`` as an ``(n, 2)`` float array of ``[lon, lat]``, checked for range."""
    coords = np.asarray(points, dtype=float)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"points must be (lon, lat) pairs, got an array of shape {coords.shape}")
    lon, lat = coords[:, 0], coords[:, 1]
    bad = ~(np.isfinite(coords).all(axis=1) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"point {i} out of range: [{lon[i]}, {lat[i]}] (order is [lon, lat], "
                         "degrees, lon in [-180, 180], lat in [-90, 90])")
    return coords


def reverse_many(points: Sequence[tuple[float, float]] | np.ndarray, *,
                 max_distance_km: float = MAX_DISTANCE_KM) -> list[Location | None]:
    """``(country, region)`` or ``None`` for each ``(lon, lat)`` in ``points``, in one query.

    ``points``: a sequence of ``(lon, lat)`` pairs or an ``(n, 2)`` array, degrees WGS84.
    ``max_distance_km``: a point whose nearest place is farther than this (km) gets ``None``.
    Raises ``ValueError`` for a non-finite or out-of-range coordinate, naming the first.
    """
    if len(points) == 0:
        return []
    coords = _as_points(points)
    index = _index()
    distance, nearest = index.tree.query(np.radians(coords[:, ::-1]), k=1)
    within = (distance[:, 0] * EARTH_RADIUS_KM <= max_distance_km).tolist()
    codes = index.answer_of[nearest[:, 0]].tolist()
    answers = index.answers
    return [answers[code] if ok else None for code, ok in zip(codes, within, strict=True)]


def reverse(lon: float, lat: float, *, max_distance_km: float = MAX_DISTANCE_KM) -> Location | None:
    """``(country, region)`` of the point at ``lon``, ``lat`` (degrees WGS84), or ``None``.

    ``None`` when no place of the table lies within ``max_distance_km`` km. For many points use
    :func:`reverse_many`: one call costs about as much as a batch of three.
    """
    return reverse_many([(lon, lat)], max_distance_km=max_distance_km)[0]
