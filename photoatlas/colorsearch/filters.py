"""The embedded backend's per-photo attributes, and which photos a query's filters select.

Same semantics as the Elasticsearch filters (see ``elastic_query.filter_clauses``): exact
values for place levels, source and licence (any of); a geohash prefix; capture time in
``[from, to)`` at millisecond resolution; every label present with at least the minimum score.
A photo without the field never passes a filter on it.
"""

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from photoatlas.colorsearch.documents import PLACE_FIELDS
from photoatlas.colorsearch.query import Filters

NO_TIME = np.iinfo(np.int64).min
CODED = ("partition", "source", "licence") + PLACE_FIELDS[:-1]  # exact-match string columns


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Dictionary-encode a string column: (codes int32 with -1 for null, vocabulary)."""
    encoded = pc.dictionary_encode(column.combine_chunks() if column.num_chunks else pa.array([], pa.string()))
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    return codes, np.array(encoded.dictionary.to_pylist(), dtype=object)


@dataclass
class PhotoAttributes:
    codes: np.ndarray  # [len(CODED), N] int32
    vocab: dict  # column -> array of values (index = code)
    geohash: np.ndarray  # [N] bytes
    captured_ms: np.ndarray  # [N] int64, NO_TIME when unknown
    label_row: np.ndarray  # [L] int32 photo row of each (photo, label)
    label_code: np.ndarray  # [L] int32
    label_score: np.ndarray  # [L] float64
    label_vocab: np.ndarray

    @classmethod
    def from_table(cls, table: pa.Table) -> "PhotoAttributes":
        codes, vocab = [], {}
        for name in CODED:
            c, v = _codes(table.column(name))
            codes.append(c)
            vocab[name] = v
        geohash = np.array([g or "" for g in table.column("place_geohash").to_pylist()], dtype=bytes)
        captured = table.column("captured_at").fill_null(NO_TIME).to_numpy().astype(np.int64)
        labels_type = table.schema.field("labels").type
        labels = table.column("labels").combine_chunks() if table.num_rows else pa.array([], labels_type)
        label_row = pc.list_parent_indices(labels).to_numpy(zero_copy_only=False).astype(np.int32)
        flat = pc.list_flatten(labels)
        label_code, label_vocab = _codes(pa.chunked_array([flat.field("label")]))
        label_score = flat.field("score").fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
        return cls(np.stack(codes) if codes else np.zeros((0, 0), np.int32), vocab, geohash, captured,
                   label_row, label_code, label_score, label_vocab)

    def selector(self, filters: Filters) -> Callable[[np.ndarray], np.ndarray] | None:
        """A function from photo rows to bools: which of them pass (None: every photo does).

        The work is per row asked about, so a search that filters only its candidates never
        touches the other photos; only a label filter builds a mask over all photos first."""
        if filters.is_empty:
            return None
        tests = []
        wanted = {"source": filters.sources, "licence": filters.licences}
        if filters.partition is not None:
            wanted["partition"] = (filters.partition,)
        for level, value in filters.place:
            if level == "geohash":
                prefix = value.encode()
                tests.append(lambda rows, p=prefix: np.char.startswith(self.geohash[rows], p))
            else:
                wanted[f"place_{level}"] = wanted.get(f"place_{level}", ()) + (value,)
        for name, values in wanted.items():
            if values:
                vocab = self.vocab[name]
                allowed = np.zeros(len(vocab) + 1, dtype=bool)  # [0]: null (code -1) never passes
                if not (name.startswith("place_") and len(set(values)) > 1):  # two exact values: none pass
                    allowed[1:] = [v in set(values) for v in vocab]
                codes = self.codes[CODED.index(name)]
                tests.append(lambda rows, c=codes, a=allowed: a[c[rows] + 1])
        lo, hi = filters.captured_from_ms, filters.captured_to_ms
        if lo is not None or hi is not None:
            lo = lo if lo is not None else NO_TIME + 1
            hi = hi if hi is not None else np.iinfo(np.int64).max
            tests.append(lambda rows: (self.captured_ms[rows] >= lo) & (self.captured_ms[rows] < hi))
        if filters.labels:
            has = np.ones(len(self.captured_ms), dtype=bool)
            for label in filters.labels:
                code = np.flatnonzero(self.label_vocab == label)
                hit = (self.label_code == (code[0] if len(code) else -2)) & (self.label_score >= filters.label_min_score)
                one = np.zeros(len(has), dtype=bool)
                one[self.label_row[hit]] = True
                has &= one
            tests.append(lambda rows: has[rows])

        def keep(rows: np.ndarray) -> np.ndarray:
            out = np.ones(len(rows), dtype=bool)
            for test in tests:
                out &= test(rows)
            return out

        return keep

    def save(self, folder: Path) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "vocab":
                for name, v in value.items():
                    np.save(folder / f"vocab_{name}.npy", v.astype(str) if len(v) else np.array([], str))
            else:
                np.save(folder / f"attr_{f.name}.npy", value.astype(str) if value.dtype == object else value)

    @classmethod
    def load(cls, folder: Path) -> "PhotoAttributes":
        kwargs = {f.name: np.asarray(np.load(folder / f"attr_{f.name}.npy", mmap_mode="r"))
                  for f in fields(cls) if f.name != "vocab"}
        kwargs["vocab"] = {name: np.load(folder / f"vocab_{name}.npy").astype(object) for name in CODED}
        kwargs["label_vocab"] = np.asarray(kwargs["label_vocab"]).astype(object)
        return cls(**kwargs)
