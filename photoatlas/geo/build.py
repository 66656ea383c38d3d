"""Preprocess the fetched atlases and GeoNames table into the compact lookup cache."""

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import shapely

from photoatlas.geo.codes import (
    GEONAMES_STATE_ALIASES,
    NO_ID_FEATURES,
    STATE_FIPS_TO_USPS,
    TERRITORY_COUNTRY,
    iso_for_part,
)
from photoatlas.geo.grid import build_grid
from photoatlas.geo.polygons import subdivide
from photoatlas.geo.topojson import decode_arcs, geometry_polygons

_SEP = "\n"
WORLD_CELLS_PER_DEGREE = 8
COUNTY_CELLS_PER_DEGREE = 32
# Grid cells farther than this from every polygon are known misses; lookups may snap
# up to this distance.
GRID_MARGIN_KM = 10.0


def pack_strings(values) -> np.ndarray:
    """A list of strings (None -> '') as one UTF-8 byte array; see unpack_strings."""
    text = _SEP.join("" if v is None else str(v).replace(_SEP, " ") for v in values)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def unpack_strings(blob: np.ndarray) -> list[str | None]:
    return [s or None for s in blob.tobytes().decode("utf-8").split(_SEP)]


def pack_geometries(geoms) -> tuple[np.ndarray, np.ndarray]:
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    offsets = np.cumsum([0] + [len(b) for b in wkb]).astype(np.int64)
    return np.frombuffer(b"".join(wkb), dtype=np.uint8), offsets


def unpack_geometries(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    raw = blob.tobytes()
    chunks = [raw[a:b] for a, b in itertools.pairwise(offsets)]
    return shapely.from_wkb(np.array(chunks, dtype=object))


def build_world(topology: dict, iso_numeric_to_alpha2: dict[str, str]) -> dict[str, np.ndarray]:
    """Country pieces; the owner indexes world_codes (ISO alpha-2, '' where none)."""
    arcs = decode_arcs(topology)
    codes: list[str | None] = []
    pieces, owner = [], []
    for feature in topology["objects"]["countries"]["geometries"]:
        name = feature.get("properties", {}).get("name", "")
        fid = feature.get("id")
        iso2 = iso_numeric_to_alpha2.get(fid) if fid else NO_ID_FEATURES.get(name)
        for polygon in geometry_polygons(feature, arcs):
            for part in shapely.get_parts(polygon):
                code = iso_for_part(name, iso2, part.centroid.x)
                if code not in codes:
                    codes.append(code)
                split = subdivide(part, step=1.0 / WORLD_CELLS_PER_DEGREE)
                pieces.extend(split)
                owner.extend([codes.index(code)] * len(split))
    blob, offsets = pack_geometries(pieces)
    coarse, fine = build_grid(np.array(pieces), owner, WORLD_CELLS_PER_DEGREE, GRID_MARGIN_KM)
    return {
        "world_grid_coarse": coarse,
        "world_grid_fine": fine,
        "world_wkb": blob,
        "world_offsets": offsets,
        "world_owner": np.asarray(owner, dtype=np.int32),
        "world_codes": pack_strings(codes),
    }


def build_counties(topology: dict) -> dict[str, np.ndarray]:
    """County pieces; the owner indexes the county tables (FIPS, name, admin1, country)."""
    arcs = decode_arcs(topology)
    fips, names, admin1, country = [], [], [], []
    pieces, owner = [], []
    for feature in topology["objects"]["counties"]["geometries"]:
        usps = STATE_FIPS_TO_USPS[feature["id"][:2]]
        index = len(fips)
        fips.append(feature["id"])
        names.append(feature.get("properties", {}).get("name"))
        admin1.append(f"US-{usps}")
        country.append(TERRITORY_COUNTRY.get(usps, "US"))
        for polygon in geometry_polygons(feature, arcs):
            for part in shapely.get_parts(polygon):
                split = subdivide(part, step=1.0 / COUNTY_CELLS_PER_DEGREE)
                pieces.extend(split)
                owner.extend([index] * len(split))
    states = {
        s.get("properties", {}).get("name"): STATE_FIPS_TO_USPS[s["id"]]
        for s in topology["objects"]["states"]["geometries"]
    }
    blob, offsets = pack_geometries(pieces)
    coarse, fine = build_grid(np.array(pieces), owner, COUNTY_CELLS_PER_DEGREE, GRID_MARGIN_KM)
    return {
        "county_grid_coarse": coarse,
        "county_grid_fine": fine,
        "county_wkb": blob,
        "county_offsets": offsets,
        "county_owner": np.asarray(owner, dtype=np.int32),
        "county_fips": pack_strings(fips),
        "county_name": pack_strings(names),
        "county_admin1": pack_strings(admin1),
        "county_country": pack_strings(country),
        "state_names": pack_strings(states.keys()),
        "state_usps": pack_strings(states.values()),
    }


def build_cities(csv_path: Path, state_usps_by_name: dict[str, str]) -> dict[str, np.ndarray]:
    """GeoNames places; admin1 labels are 'US-CA' for US places, else 'FR:Ile-de-France'."""
    lat, lon, names, labels, ccs = [], [], [], [], []
    with open(csv_path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            cc, admin1 = row["cc"].strip(), row["admin1"].strip()
            if cc == "US":
                usps = state_usps_by_name.get(GEONAMES_STATE_ALIASES.get(admin1, admin1))
                label = f"US-{usps}" if usps else None
            else:
                label = f"{cc}:{admin1}" if admin1 else None
            lat.append(float(row["lat"]))
            lon.append(float(row["lon"]))
            names.append(row["name"].strip())
            labels.append(label)
            ccs.append(cc)
    return {
        "city_lat": np.asarray(lat, dtype=np.float64),
        "city_lon": np.asarray(lon, dtype=np.float64),
        "city_name": pack_strings(names),
        "city_admin1": pack_strings(labels),
        "city_cc": pack_strings(ccs),
    }


def build_cache(
    world_json: Path, counties_json: Path, cities_csv: Path, iso_json: Path, meta: dict
) -> dict[str, np.ndarray]:
    """Every array of the lookup cache, from the four fetched source files."""
    iso = {c["numeric"]: c["alpha_2"] for c in json.loads(iso_json.read_text())["3166-1"]}
    arrays = build_world(json.loads(world_json.read_text()), iso)
    arrays.update(build_counties(json.loads(counties_json.read_text())))
    states = dict(zip(unpack_strings(arrays["state_names"]), unpack_strings(arrays["state_usps"])))
    arrays.update(build_cities(cities_csv, states))
    arrays["grid_margin_km"] = np.float64(GRID_MARGIN_KM)
    arrays["meta"] = pack_strings([json.dumps(meta, sort_keys=True)])
    return arrays
