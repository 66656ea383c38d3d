"""The embedded colour index: no server, one Parquet file per partition under a folder.

Writes replace whole partition files atomically (write a temporary file, then rename), so
re-indexing an hour is exact and a crash leaves the old file. Search runs on
:class:`~photoatlas.colorsearch.grid.PaletteGrid` s built from the partition files: a *base* grid,
cached as ``.npy`` files under ``<root>/.grid/<fingerprint>/`` (memory-mapped on the next open),
and, after writes, a small *delta* grid over the partition files written since, built in memory;
the base's rows of rewritten or removed files are hidden. Each part is searched exactly and the
parts' top results merged, so the answer equals one grid over every file. When the delta grows
past a share of the base (or on the first search of an index), the base is rebuilt in full.
"""

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable
from urllib.parse import quote, unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from photoatlas.colorsearch.documents import DOC_SCHEMA, DocumentError
from photoatlas.colorsearch.filters import PhotoAttributes
from photoatlas.colorsearch.grid import PaletteGrid, color_order
from photoatlas.colorsearch.index import BulkIndexError, make_hits
from photoatlas.colorsearch.query import ColorQuery, Hit
from photoatlas.colorsearch.scoring import Scored, top_k


GRID_FORMAT = "grid-v4"  # part of every cache's name: a new layout never reads an old cache (v4: colour order, photos ascending per level)
DELTA_MAX_SHARE = 0.2  # a delta over this share of the base's photos triggers a full rebuild
DELTA_MAX_PHOTOS = 200_000  # ... as does one over this many photos (delta grids live in memory)


@dataclass
class _Part:
    """One searchable grid with the per-photo arrays hits need; ``hidden`` rows never match."""

    grid: PaletteGrid
    attrs: PhotoAttributes
    hex: np.ndarray  # [N, K] bytes
    share: np.ndarray  # [N, K] float64
    hidden: np.ndarray | None = None  # bool [N]


@dataclass
class _State:
    fingerprint: str
    parts: list


def docs_to_table(docs: list[dict]) -> tuple[pa.Table, dict[str, str]]:
    """Documents as a DOC_SCHEMA table, and ``{photo_id: reason}`` for those that do not fit."""
    try:
        return pa.Table.from_pylist(docs, schema=DOC_SCHEMA), {}
    except (pa.ArrowException, TypeError, ValueError, KeyError):
        good, failed = [], {}
        for doc in docs:
            try:
                pa.Table.from_pylist([doc], schema=DOC_SCHEMA)
                good.append(doc)
            except (pa.ArrowException, TypeError, ValueError, KeyError) as exc:
                failed[str(doc.get("photo_id") if isinstance(doc, dict) else doc)] = f"{type(exc).__name__}: {exc}"
        return pa.Table.from_pylist(good, schema=DOC_SCHEMA), failed


def table_palettes(table: pa.Table) -> tuple[np.ndarray, ...]:
    """``lab [N,K,3], share, coverage [N,K], valid [N,K], hex [N,K]`` from a DOC_SCHEMA table."""
    palette_type = DOC_SCHEMA.field("palette").type
    palette = table.column("palette").combine_chunks() if table.num_rows else pa.array([], palette_type)
    lengths = pc.list_value_length(palette).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    n, k = len(lengths), max(int(lengths.max()) if len(lengths) else 0, 1)
    rows = np.repeat(np.arange(n), lengths)
    slots = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    flat = pc.list_flatten(palette)
    column = lambda name: flat.field(name).to_numpy(zero_copy_only=False)  # noqa: E731
    lab = np.zeros((n, k, 3))
    lab[rows, slots] = np.stack([column("l"), column("a"), column("b")], axis=1)
    share, coverage = np.zeros((n, k)), np.zeros((n, k))
    share[rows, slots], coverage[rows, slots] = column("share"), column("coverage")
    valid = np.zeros((n, k), dtype=bool)
    valid[rows, slots] = True
    hexes = np.zeros((n, k), dtype="S9")
    hexes[rows, slots] = np.array(flat.field("hex").fill_null("").to_pylist(), dtype="S9")
    return lab, share, coverage, valid, hexes


class EmbeddedColorIndex:
    """A :class:`~photoatlas.colorsearch.index.ColorIndex` in a local folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._state: _State | None = None
        self._checked: tuple = (None, "")  # (folder mtime, fingerprint) of the last full check

    @property
    def _partitions_dir(self) -> Path:
        return self.root / "partitions"

    def _path(self, partition: str) -> Path:
        return self._partitions_dir / f"{quote(partition, safe='')}.parquet"

    def ensure(self) -> None:
        self._partitions_dir.mkdir(parents=True, exist_ok=True)

    def _files(self) -> list[Path]:
        return sorted(self._partitions_dir.glob("*.parquet")) if self._partitions_dir.exists() else []

    def _read(self, path: Path) -> pa.Table:
        return pq.read_table(path, schema=DOC_SCHEMA) if path.exists() else DOC_SCHEMA.empty_table()

    def _write(self, partition: str, table: pa.Table) -> None:
        path = self._path(partition)
        if table.num_rows == 0:
            path.unlink(missing_ok=True)
            return
        with tempfile.NamedTemporaryFile(dir=self._partitions_dir, suffix=".tmp", delete=False) as tmp:
            pq.write_table(table.sort_by("photo_id"), tmp.name)
        Path(tmp.name).replace(path)

    def _drop_elsewhere(self, ids: pa.Array, keep: set[str]) -> None:
        """Remove ``ids`` from every partition file not named in ``keep`` (a photo lives once)."""
        for path in self._files():
            partition = unquote(path.name[: -len(".parquet")])
            if partition in keep:
                continue
            present = pq.read_table(path, columns=["photo_id"]).column("photo_id")
            if pc.any(pc.is_in(present, value_set=ids)).as_py():
                table = self._read(path)
                self._write(partition, table.filter(pc.invert(pc.is_in(table.column("photo_id"), value_set=ids))))

    def upsert(self, docs: Iterable[dict]) -> int:
        table, failed = docs_to_table(list(docs))
        self.upsert_table(table)
        if failed:
            raise BulkIndexError(failed, written=table.num_rows)
        return table.num_rows

    def upsert_table(self, table: pa.Table) -> int:
        """Columnar bulk upsert of a DOC_SCHEMA table (e.g. built straight from Parquet)."""
        self.ensure()
        table = table.cast(DOC_SCHEMA)
        duplicated = pc.count_distinct(table.column("photo_id")).as_py() != table.num_rows
        if duplicated:
            raise DocumentError("the same photo_id appears twice in one write")
        partitions = pc.unique(table.column("partition")).to_pylist()
        self._drop_elsewhere(table.column("photo_id").combine_chunks(), set(partitions))
        for partition in partitions:
            new = table.filter(pc.equal(table.column("partition"), partition))
            old = self._read(self._path(partition))
            replaced = pc.is_in(old.column("photo_id"), value_set=new.column("photo_id").combine_chunks())
            old = old.filter(pc.invert(replaced))
            self._write(partition, pa.concat_tables([old, new]))
        return table.num_rows

    def replace_partition(self, partition: str, docs: Iterable[dict]) -> int:
        """Make the partition hold exactly ``docs``. Documents that fail keep their previous
        version, if any, and are named in the BulkIndexError raised after the write."""
        docs = list(docs)
        strays = sorted({d.get("partition") for d in docs if isinstance(d, dict)} - {partition})
        if strays:
            raise DocumentError(f"replace_partition({partition!r}) got documents of partitions {strays}")
        table, failed = docs_to_table(docs)
        self.ensure()
        self._drop_elsewhere(table.column("photo_id").combine_chunks(), {partition})
        if failed:
            old = self._read(self._path(partition))
            kept = old.filter(pc.is_in(old.column("photo_id"), value_set=pa.array(list(failed))))
            table = pa.concat_tables([table, kept])
        self._write(partition, table)
        if failed:
            raise BulkIndexError(failed, written=table.num_rows)
        return table.num_rows

    def delete_partition(self, partition: str) -> int:
        removed = self.count(partition)
        self._path(partition).unlink(missing_ok=True)
        return removed

    def count(self, partition: str | None = None) -> int:
        paths = self._files() if partition is None else [p for p in [self._path(partition)] if p.exists()]
        return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)

    def ids(self, partition: str) -> set[str]:
        path = self._path(partition)
        return set(pq.read_table(path, columns=["photo_id"]).column("photo_id").to_pylist()) if path.exists() else set()

    def search(self, query: ColorQuery, limit: int = 10) -> list[Hit]:
        return self._search(query, limit, brute=False)

    def brute_force(self, query: ColorQuery, limit: int = 10) -> list[Hit]:
        """The same answer as :meth:`search` by scoring every photo: the reference for tests and benchmarks."""
        return self._search(query, limit, brute=True)

    def _search(self, query: ColorQuery, limit: int, brute: bool) -> list[Hit]:
        min_share = np.array([c.min_share for c in query.colors])
        found = []  # (part, rows, scored) of every part
        for part in self._current().parts:
            if len(part.grid) == 0:
                continue
            keep = _combine(part.attrs.selector(query.filters), part.hidden)
            if brute:
                mask = None if keep is None else keep(np.arange(len(part.grid)))
                rows, scored = part.grid.brute_force(query.labs, min_share, limit, mask)
            else:
                rows, scored = part.grid.search(query.labs, min_share, limit, keep)
            found.append((part, rows, scored))
        if not found:
            return []
        ids = np.concatenate([part.grid.photo_ids[rows] for part, rows, _ in found])
        merged = Scored(*(np.concatenate([getattr(sc, f.name) for _, _, sc in found]) for f in fields(Scored)))
        pick = top_k(merged.score, ids, limit)  # each part's top is exact, so the top of their union is
        origin = [(part, r) for part, rows, _ in found for r in rows]
        palettes = [
            [{"hex": h.decode(), "share": float(s), "coverage": float(c)}
             for h, s, c in zip(part.hex[r], part.share[r], part.grid.coverage[r])]
            for part, r in (origin[i] for i in pick)
        ]
        picked = Scored(*(getattr(merged, f.name)[pick] for f in fields(Scored)))
        return make_hits(query, picked, np.arange(len(pick)), [i.decode() for i in ids[pick]], palettes)

    def _identities(self) -> dict[str, str]:
        """``{file name: size, mtime, inode}`` of every partition file: any rewrite changes it."""
        if not self._partitions_dir.exists():
            return {}
        with os.scandir(self._partitions_dir) as scan:
            return {e.name: f"{e.stat().st_size}:{e.stat().st_mtime_ns}:{e.stat().st_ino}"
                    for e in scan if e.name.endswith(".parquet")}

    def _fingerprint(self) -> str:
        """Changes whenever a partition file is written, replaced or removed. Every write renames
        a file into the folder, so an unchanged folder mtime means unchanged files."""
        try:
            folder_mtime = self._partitions_dir.stat().st_mtime_ns
        except FileNotFoundError:
            folder_mtime = None
        if folder_mtime is not None and self._checked[0] == folder_mtime:
            return self._checked[1]
        self._checked = (folder_mtime, _digest(self._identities()))
        return self._checked[1]

    def _current(self) -> _State:
        fingerprint = self._fingerprint()
        if self._state is not None and self._state.fingerprint == fingerprint:
            return self._state
        now = self._identities()
        base_dir = self._base_dir()
        if base_dir is not None:
            built_from = json.loads((base_dir / "files.json").read_text())
            changed = sorted(name for name, ident in now.items() if built_from.get(name) != ident)
            gone = {name for name, ident in built_from.items() if now.get(name) != ident}
            base = self._load_part(base_dir)
            delta_rows = sum(pq.ParquetFile(self._partitions_dir / n).metadata.num_rows for n in changed)
            if delta_rows <= min(DELTA_MAX_PHOTOS, DELTA_MAX_SHARE * max(len(base.grid), 1)):
                if gone:
                    order = json.loads((base_dir / "file_order.json").read_text())
                    gone_files = [i for i, name in enumerate(order) if name in gone]
                    base.hidden = np.isin(np.load(base_dir / "row_file.npy"), gone_files)
                table = self._read_files([self._partitions_dir / n for n in changed])
                self._state = _State(fingerprint, [base, _part_of(table)[0]])
                return self._state
        cache = self.root / ".grid" / fingerprint
        if not (cache / "complete").exists():
            self._build(cache, now)
        self._state = _State(fingerprint, [self._load_part(cache)])
        return self._state

    def _base_dir(self) -> Path | None:
        grids = self.root / ".grid"
        done = [d for d in grids.iterdir() if (d / "complete").exists()] if grids.exists() else []
        usable = len(done) == 1 and (done[0] / "files.json").exists() and _read(done[0] / "format") == GRID_FORMAT
        return done[0] if usable else None

    @staticmethod
    def _load_part(folder: Path) -> _Part:
        return _Part(PaletteGrid.load(folder), PhotoAttributes.load(folder),
                     np.asarray(np.load(folder / "hex.npy", mmap_mode="r")),
                     np.asarray(np.load(folder / "share.npy", mmap_mode="r")))

    def _read_files(self, files: list[Path]) -> pa.Table:
        return pa.concat_tables([self._read(p) for p in files]) if files else DOC_SCHEMA.empty_table()

    def _build(self, cache: Path, identities: dict[str, str]) -> None:
        files = self._files()
        tables = [self._read(p) for p in files]
        table = pa.concat_tables(tables) if tables else DOC_SCHEMA.empty_table()
        cache.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache.parent, prefix="building-"))
        row_file = np.repeat(np.arange(len(tables), dtype=np.int32), [t.num_rows for t in tables])
        part, order = _part_of(table, by_color=True)
        part.grid.save(staging)
        part.attrs.save(staging)
        np.save(staging / "hex.npy", part.hex)
        np.save(staging / "share.npy", part.share)
        np.save(staging / "row_file.npy", row_file[order])
        (staging / "file_order.json").write_text(json.dumps([p.name for p in files]))
        (staging / "files.json").write_text(json.dumps({p.name: identities.get(p.name) for p in files}))
        (staging / "format").write_text(GRID_FORMAT)
        (staging / "complete").touch()
        for old in cache.parent.iterdir():
            if old.is_dir() and old.name != staging.name:
                shutil.rmtree(old, ignore_errors=True)
        staging.replace(cache)


def _part_of(table: pa.Table, by_color: bool = False) -> tuple[_Part, np.ndarray]:
    """The part of a table's photos, and the order of the table's rows in it: as they are, or
    ``by_color`` (:func:`~photoatlas.colorsearch.grid.color_order`), which a base grid uses for
    locality."""
    lab, share, coverage, valid, hexes = table_palettes(table)
    order = color_order(lab, coverage) if by_color else np.arange(table.num_rows)
    if by_color:
        table = table.take(order)
        lab, share, coverage, valid, hexes = (a[order] for a in (lab, share, coverage, valid, hexes))
    ids = np.array(table.column("photo_id").to_pylist(), dtype=bytes)
    return _Part(PaletteGrid.build(ids, lab, coverage, valid), PhotoAttributes.from_table(table), hexes, share), order


def _combine(select, hidden):
    """One keep-function from a filter selector (or None) and hidden rows (or None)."""
    if hidden is None:
        return select
    if select is None:
        return lambda rows: ~hidden[rows]
    return lambda rows: select(rows) & ~hidden[rows]


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def _digest(identities: dict[str, str]) -> str:
    digest = hashlib.sha1(GRID_FORMAT.encode())
    for name in sorted(identities):
        digest.update(f"{name}:{identities[name]}\n".encode())
    return digest.hexdigest()[:16]
