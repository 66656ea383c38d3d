"""Synthetic palettes that look like real ones, for tests and benchmarks.

A photo's palette has ``k`` colours with Dirichlet shares (sorted, largest first). Most colours
are shades of one or two themes of the photo (k-means splits a large area into several close
colours), the rest are scattered; about a fifth of all colours are near-grey, whites or blacks.
Every colour is an 8-bit sRGB colour, converted to CIELAB as the enrichment does.
"""

import numpy as np

from photoatlas.color import lab_to_hex, lab_to_srgb8, srgb8_to_lab


def random_palettes(n: int, k: int = 5, seed: int = 0, alpha: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """``(lab [n, k, 3], share [n, k])``."""
    rng = np.random.default_rng(seed)
    theme_hue = rng.uniform(0, 2 * np.pi, (n, 2))
    theme_chroma = rng.choice([4.0, 20.0, 45.0, 70.0], (n, 2), p=[0.2, 0.35, 0.3, 0.15]) * rng.uniform(0.6, 1.4, (n, 2))
    theme_l = rng.uniform(20, 85, (n, 2))
    theme = rng.integers(0, 2, (n, k))
    pick = lambda a: np.take_along_axis(a, theme, axis=1)  # noqa: E731
    hue = pick(theme_hue) + rng.normal(0, 0.25, (n, k))
    chroma = pick(theme_chroma) * rng.uniform(0.6, 1.3, (n, k))
    light = pick(theme_l) + rng.normal(0, 12, (n, k))
    scattered = rng.random((n, k)) < 0.35
    hue = np.where(scattered, rng.uniform(0, 2 * np.pi, (n, k)), hue)
    chroma = np.where(scattered, rng.choice([2.0, 15.0, 40.0, 70.0], (n, k), p=[0.3, 0.3, 0.25, 0.15])
                      * rng.uniform(0.3, 1.5, (n, k)), chroma)
    light = np.where(scattered, rng.uniform(2, 99, (n, k)), light)
    lab = np.stack([np.clip(light, 0, 100), chroma * np.cos(hue), chroma * np.sin(hue)], axis=-1)
    lab = srgb8_to_lab(lab_to_srgb8(lab))  # snap into the sRGB gamut, like a real palette
    share = -np.sort(-rng.dirichlet(np.full(k, alpha), n), axis=1)
    return lab, share


def random_records(n: int, k: int = 5, seed: int = 0, partition: str = "2024-05-01-12:00",
                   prefix: str = "") -> list[dict]:
    """Enriched-record dicts (the fields the colour index reads) around random palettes."""
    lab, share = random_palettes(n, k, seed)
    rng = np.random.default_rng(seed + 1)
    records = []
    for i in range(n):
        records.append({
            "photo_id": f"{prefix}{seed:04d}{i:08d}".ljust(16, "0"),
            "partition": partition,
            "status": "ok",
            "source": ["flickr", "unsplash", "inbox"][i % 3],
            "licence": ["cc-by", "cc0"][i % 2],
            "tags": [],
            "captured_at": int(1_700_000_000_000 + rng.integers(0, 86_400_000 * 365)),
            "palette": [{"l": float(c[0]), "a": float(c[1]), "b": float(c[2]), "hex": lab_to_hex(c), "share": float(s)}
                        for c, s in zip(lab[i], share[i])],
            "place_country": ["US", "FR", "JP"][i % 3],
            "labels": [{"label": "dog", "score": 0.9}] if i % 4 == 0 else [],
        })
    return records


def hex_codes(lab: np.ndarray) -> np.ndarray:
    """'#rrggbb' bytes (S7) for CIELAB colours, vectorised."""
    rgb = lab_to_srgb8(lab).reshape(-1, 3)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    out = np.empty((len(rgb), 7), dtype=np.uint8)
    out[:, 0] = ord("#")
    for i in range(3):
        out[:, 1 + 2 * i] = digits[rgb[:, i] >> 4]
        out[:, 2 + 2 * i] = digits[rgb[:, i] & 15]
    return out.view("S7").reshape(lab.shape[:-1])


def synthetic_table(n: int, k: int = 5, seed: int = 0, partitions: int = 24):
    """A DOC_SCHEMA table of ``n`` synthetic photos, built columnar (as to_document would build
    it row by row: same rounding, coverage from the rounded palette). For benchmarks."""
    import pyarrow as pa

    from photoatlas.colorsearch.bounds import lch
    from photoatlas.colorsearch.documents import DOC_SCHEMA, LAB_DECIMALS, SHARE_DECIMALS, PLACE_FIELDS
    from photoatlas.colorsearch.scoring import palette_coverage

    lab, share = random_palettes(n, k, seed)
    lab, share = np.round(lab, LAB_DECIMALS), np.round(share, SHARE_DECIMALS)
    lab[..., 0] = np.clip(lab[..., 0], 0.0, 100.0)
    coverage = np.concatenate([palette_coverage(lab[i:i + 50_000], share[i:i + 50_000]) for i in range(0, n, 50_000)])
    coverage = np.round(coverage, SHARE_DECIMALS)
    polar = np.round(lch(lab), LAB_DECIMALS)
    flat = lambda a: pa.array(a.reshape(-1))  # noqa: E731
    hexes = pa.array(hex_codes(lab).reshape(-1))
    hexes = (hexes.combine_chunks() if isinstance(hexes, pa.ChunkedArray) else hexes).cast(pa.string())
    colors = pa.StructArray.from_arrays(
        [flat(lab[..., 0]), flat(lab[..., 1]), flat(lab[..., 2]), hexes,
         flat(share), flat(coverage), flat(polar[..., 1]), flat(polar[..., 2])],
        fields=list(DOC_SCHEMA.field("palette").type.value_type),
    )
    palette = pa.ListArray.from_arrays(pa.array(np.arange(0, n * k + 1, k, dtype=np.int32)), colors)
    rng = np.random.default_rng(seed + 1)
    ids = np.char.mod("%016x", rng.integers(0, 2**62, n)).astype(object)
    hours = [f"2024-05-{1 + h // 24:02d}-{h % 24:02d}:00" for h in range(partitions)]
    labels = pa.array([[{"label": "dog", "score": 0.9}] if i % 7 == 0 else [] for i in range(n)],
                      DOC_SCHEMA.field("labels").type)
    columns = {
        "photo_id": pa.array(ids, pa.string()),
        "partition": pa.array(np.array(hours, dtype=object)[rng.integers(0, partitions, n)], pa.string()),
        "source": pa.array(np.array(["flickr", "unsplash", "inbox", "kafka"], dtype=object)[rng.integers(0, 4, n)]),
        "licence": pa.array(np.array(["cc-by", "cc0", "all-rights"], dtype=object)[rng.integers(0, 3, n)]),
        "tags": pa.array([[]] * n, pa.list_(pa.string())),
        "captured_at": pa.array(1_700_000_000_000 + rng.integers(0, 86_400_000 * 365, n)),
        **{name: pa.nulls(n, pa.string()) for name in PLACE_FIELDS},
        "labels": labels,
        "palette": palette,
    }
    columns["place_country"] = pa.array(np.array(["US", "FR", "JP", "BR", "IN"], dtype=object)[rng.integers(0, 5, n)])
    return pa.Table.from_pydict(columns, schema=DOC_SCHEMA)
