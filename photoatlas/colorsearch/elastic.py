"""The Elasticsearch colour index, with the official client.

The index lives behind an alias (``photoatlas-colors`` -> ``photoatlas-colors-v1``) so that
:meth:`ElasticColorIndex.reindex_to` can build a new version and switch readers and writers in
one atomic alias update. Ranking is exact and identical to the embedded backend: Elasticsearch
returns the candidates of :func:`~photoatlas.colorsearch.elastic_query.candidate_query` and they
are re-ranked with the shared :func:`~photoatlas.colorsearch.scoring.score_palettes`.
"""

import uuid
from typing import Iterable

import numpy as np
from elasticsearch import Elasticsearch, NotFoundError, helpers

from photoatlas.colorsearch.elastic_query import MAPPING, SETTINGS, candidate_query
from photoatlas.colorsearch.index import SCORE_EPS, BulkIndexError, ColorIndexError, make_hits, palette_arrays
from photoatlas.colorsearch.query import ColorQuery, Hit
from photoatlas.colorsearch.scoring import score_palettes, top_k

ALIAS = "photoatlas-colors"
PAGE_SIZE = 5000  # hits per search_after page (Elasticsearch caps a page at 10 000)
FIRST_TAU, TAU_STEP, MIN_TAU = 0.5, 0.4, 0.05  # score thresholds of the candidate rounds
BULK_CHUNK = 500


class ElasticColorIndex:
    """A :class:`~photoatlas.colorsearch.index.ColorIndex` in Elasticsearch 8 (REST API)."""

    def __init__(self, client: Elasticsearch, alias: str = ALIAS, version: int = 1, refresh: bool = True):
        self.es = client
        self.alias = alias
        self.version = version
        self.refresh = refresh  # make every write visible before returning (checks count right after)

    @classmethod
    def from_url(cls, url: str, **kwargs) -> "ElasticColorIndex":
        return cls(Elasticsearch(url, request_timeout=30), **kwargs)

    def index_name(self, version: int) -> str:
        return f"{self.alias}-v{version}"

    def ensure(self) -> None:
        if self.es.indices.exists_alias(name=self.alias):
            return
        self.es.indices.create(index=self.index_name(self.version), mappings=MAPPING, settings=SETTINGS,
                               aliases={self.alias: {"is_write_index": True}})

    def current_index(self) -> str:
        return next(iter(self.es.indices.get_alias(name=self.alias)))

    def _bulk(self, docs: Iterable[dict], run: str) -> int:
        actions = ({"_index": self.alias, "_id": doc["photo_id"], "_source": {**doc, "index_run": run}}
                   for doc in docs)
        written, failed = 0, {}
        for ok, item in helpers.streaming_bulk(self.es, actions, chunk_size=BULK_CHUNK, raise_on_error=False,
                                               raise_on_exception=False, max_retries=2):
            if ok:
                written += 1
            else:
                info = next(iter(item.values()))
                error = info.get("error", {})
                if not isinstance(error, dict):
                    error = {"type": "error", "reason": str(error)}
                failed[str(info.get("_id"))] = f"{error.get('type', 'error')}: {error.get('reason', error)}"
        if self.refresh:
            self.es.indices.refresh(index=self.alias)
        if failed:
            raise BulkIndexError(failed, written)
        return written

    def upsert(self, docs: Iterable[dict]) -> int:
        return self._bulk(docs, f"upsert-{uuid.uuid4().hex}")

    def replace_partition(self, partition: str, docs: Iterable[dict]) -> int:
        """Upsert the documents, then delete the partition's documents that this write did not
        touch: readers never see the hour half-empty. Documents that fail keep their previous
        version, if any, and are named in the BulkIndexError raised at the end."""
        docs = list(docs)
        strays = sorted({d["partition"] for d in docs} - {partition})
        if strays:
            raise ColorIndexError(f"replace_partition({partition!r}) got documents of partitions {strays}")
        run = f"replace-{uuid.uuid4().hex}"
        failure = None
        try:
            written = self._bulk(docs, run)
        except BulkIndexError as exc:
            failure, written = exc, exc.written
        keep = [{"term": {"index_run": run}}] + ([{"ids": {"values": list(failure.failed)}}] if failure else [])
        self.es.delete_by_query(index=self.alias, refresh=True, conflicts="proceed",
                                query={"bool": {"filter": [{"term": {"partition": partition}}], "must_not": keep}})
        if failure:
            raise failure
        return written

    def delete_partition(self, partition: str) -> int:
        response = self.es.delete_by_query(index=self.alias, query={"term": {"partition": partition}},
                                           refresh=True, conflicts="proceed")
        return int(response.get("deleted", 0))

    def count(self, partition: str | None = None) -> int:
        query = {"term": {"partition": partition}} if partition is not None else {"match_all": {}}
        return int(self.es.count(index=self.alias, query=query)["count"])

    def ids(self, partition: str) -> set[str]:
        return {hit["_id"] for hit in self._scan({"term": {"partition": partition}}, source=False)}

    def _scan(self, query: dict, source) -> Iterable[dict]:
        """Every hit of ``query``, paged with search_after on photo id (stable, no scroll state)."""
        after = None
        while True:
            page = self.es.search(index=self.alias, query=query, sort=[{"photo_id": "asc"}], size=PAGE_SIZE,
                                  source=source, search_after=after, track_total_hits=False)["hits"]["hits"]
            yield from page
            if len(page) < PAGE_SIZE:
                return
            after = page[-1]["sort"]

    def search(self, query: ColorQuery, limit: int = 10) -> list[Hit]:
        """Exact top ``limit``: fetch the candidates for a threshold ``τ`` (see candidate_query),
        re-rank them with score_palettes, and stop once ``limit`` of them score above ``τ``;
        otherwise lower ``τ`` to the k-th score found (or step it down) and fetch again."""
        min_share = np.array([c.min_share for c in query.colors])
        seen: dict[str, list] = {}
        tau = FIRST_TAU
        while True:
            es_query = candidate_query(query, tau)
            if es_query is None:
                return []
            for hit in self._scan(es_query, source=["photo_id", "palette"]):
                seen.setdefault(hit["_id"], hit["_source"].get("palette") or [])
            ids, palettes = list(seen), list(seen.values())
            scored = score_palettes(query.labs, min_share, *palette_arrays(palettes))
            if tau == 0.0 or int((scored.score > tau + SCORE_EPS).sum()) >= limit:
                return make_hits(query, scored, top_k(scored.score, np.array(ids), limit), ids, palettes)
            positive = np.sort(scored.score[scored.score > 0])
            if len(positive) >= limit:  # everything scoring at least the k-th is fetched next
                tau = max(0.0, min(float(positive[-limit]) - 2 * SCORE_EPS, tau * 0.999))
            else:
                tau = tau * TAU_STEP if tau > MIN_TAU else 0.0

    def reindex_to(self, new_version: int, delete_old: bool = False) -> str:
        """Build ``<alias>-v<new_version>`` with the current mapping, copy every document, then
        move the alias in one atomic update. Writes made while it copies are not carried over:
        pause the writers (the Dagster sensor) around it."""
        old = self.current_index()
        new = self.index_name(new_version)
        if new == old:
            raise ColorIndexError(f"{self.alias} already points at {new}")
        self.es.indices.create(index=new, mappings=MAPPING, settings=SETTINGS)
        response = self.es.reindex(source={"index": old}, dest={"index": new}, refresh=True,
                                   wait_for_completion=True, conflicts="proceed")
        if response.get("failures"):
            self.es.indices.delete(index=new)
            raise ColorIndexError(f"reindex {old} -> {new} failed: {response['failures'][:3]}")
        self.es.indices.update_aliases(actions=[
            {"remove": {"index": old, "alias": self.alias}},
            {"add": {"index": new, "alias": self.alias, "is_write_index": True}},
        ])
        self.version = new_version
        if delete_old:
            try:
                self.es.indices.delete(index=old)
            except NotFoundError:
                pass
        return new
