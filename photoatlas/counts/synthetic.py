"""Deterministic enriched-record tables for tests, benchmarks and demos of the counts path.

The places form real hierarchies (with two Springfields, to show why city keys carry their
parents); a share of records is quarantined, placeless or timeless on purpose.
"""

import datetime as dt

import numpy as np
import pyarrow as pa

from photoatlas.schema import RECORD_SCHEMA

# (country, admin1, county FIPS, city, geohash-5)
GAZETTEER = [  # admin1 as photoatlas.geo.lookup writes it
    ("US", "US-CA", "06037", "Los Angeles", "9q5ct"),
    ("US", "US-CA", "06075", "San Francisco", "9q8yy"),
    ("US", "US-IL", "17167", "Springfield", "dp0rg"),
    ("US", "US-MA", "25013", "Springfield", "drkmq"),
    ("US", "US-NY", "36061", "New York", "dr5ru"),
    ("FR", "FR:Ile-de-France", None, "Paris", "u09tv"),
    ("JP", "JP:Tokyo", None, "Tōkyō", "xn77h"),
    ("BR", "BR:Sao Paulo", None, "São Paulo", "6gycf"),
]
PLACE_COLUMNS = ["place_country", "place_admin1", "place_county", "place_city", "place_geohash"]
LABEL_TYPE = pa.list_(pa.struct([("label", pa.string()), ("score", pa.float32())]))
LABELS = ["dog", "cat", "beach", "car", "tree"]


def make_records(
    n: int,
    partition: str,
    seed: int = 0,
    *,
    months: tuple[str, ...] = ("2024-04", "2024-05", "2025-01"),
    hist_bins: int = 40,
    quarantined: float = 0.1,
    no_place: float = 0.15,
    no_time: float = 0.05,
    labels: bool = True,
) -> pa.Table:
    """``n`` records of one ingest hour: ``RECORD_SCHEMA`` plus place fields (and ``labels``)."""
    rng = np.random.default_rng(seed)
    columns = {f.name: pa.nulls(n, f.type) for f in RECORD_SCHEMA}
    columns["photo_id"] = pa.array([f"{seed:08x}{i:056x}" for i in range(n)])
    columns["partition"] = pa.array([partition] * n)
    columns["status"] = pa.array(np.where(rng.random(n) < quarantined, "quarantined", "ok").tolist())
    when = []
    for _ in range(n):
        year, month = map(int, months[rng.integers(len(months))].split("-"))
        when.append(
            None
            if rng.random() < no_time
            else dt.datetime(year, month, int(rng.integers(1, 29)), int(rng.integers(24)), tzinfo=dt.UTC)
        )
    columns["captured_at"] = pa.array(when, RECORD_SCHEMA.field("captured_at").type)
    hists = [
        None if rng.random() < 0.1 else rng.dirichlet(np.full(hist_bins, 0.3)).astype(np.float32).tolist()
        for _ in range(n)
    ]
    columns["color_hist"] = pa.array(hists, RECORD_SCHEMA.field("color_hist").type)
    places = []
    for _ in range(n):
        r = rng.random()
        row = list(GAZETTEER[rng.integers(len(GAZETTEER))])
        if r < no_place:
            row = [None] * 5
        elif r < no_place * 1.5:
            row[2:] = [None, None, None]  # a country and region, nothing finer
        places.append(row)
    for i, name in enumerate(PLACE_COLUMNS):
        columns[name] = pa.array([p[i] for p in places], pa.string())
    table = pa.table(columns)
    if labels:
        picks = [
            [
                {"label": LABELS[j], "score": float(rng.random())}
                for j in rng.integers(len(LABELS), size=rng.integers(0, 4))
            ]
            for _ in range(n)
        ]
        table = table.append_column("labels", pa.array(picks, LABEL_TYPE))
    return table
