"""The colour-search index: embedded (Parquet + a Lab grid) by default, Elasticsearch in production."""

from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from photoatlas.colorsearch import ColorIndex, EmbeddedColorIndex


class ColorIndexResource(ConfigurableResource):
    """Where colour queries are answered from."""

    kind: Literal["embedded", "elasticsearch"] = "embedded"
    path: str | None = Field(default=None, description="embedded index folder")
    url: str | None = Field(default=None, description="Elasticsearch URL, e.g. https://es.internal:9200")
    api_key: str | None = Field(default=None, description="pass EnvVar, never a literal")
    alias: str = "photoatlas-colors"
    version: int = Field(default=1, description="the index version the alias points at (bump to re-index)")

    def index(self) -> ColorIndex:
        if self.kind == "embedded":
            if not self.path:
                raise ValueError("the embedded colour index needs a path")
            return EmbeddedColorIndex(self.path)
        from elasticsearch import Elasticsearch

        from photoatlas.colorsearch.elastic import ElasticColorIndex

        if not self.url:
            raise ValueError("the elasticsearch colour index needs a url")
        client = Elasticsearch(self.url, api_key=self.api_key, request_timeout=30, retry_on_timeout=True, max_retries=3)
        return ElasticColorIndex(client, alias=self.alias, version=self.version)
