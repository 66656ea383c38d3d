"""The counts store: DuckDB under $PHOTOATLAS_HOME by default, Cassandra in production."""

from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from photoatlas.counts import CountsStore, DuckDBCountsStore


class CountsStoreResource(ConfigurableResource):
    """Where the geo × time cube is served from."""

    kind: Literal["duckdb", "cassandra"] = "duckdb"
    duckdb_path: str | None = Field(default=None, description="embedded store file")
    hosts: str = Field(default="127.0.0.1", description="Cassandra contact points, comma-separated")
    port: int = 9042
    keyspace: str = "photoatlas"
    consistency: str = "LOCAL_QUORUM"
    protocol_version: int | None = Field(default=None, description="3 for Cassandra 2.1; None negotiates")
    username: str | None = None
    password: str | None = Field(default=None, description="pass EnvVar, never a literal")

    def store(self) -> CountsStore:
        if self.kind == "duckdb":
            if not self.duckdb_path:
                raise ValueError("the duckdb counts store needs duckdb_path")
            store = DuckDBCountsStore(self.duckdb_path)
        else:
            from photoatlas.counts import CassandraCountsStore

            store = CassandraCountsStore(
                hosts=[h.strip() for h in self.hosts.split(",") if h.strip()], port=self.port, keyspace=self.keyspace,
                consistency=self.consistency, protocol_version=self.protocol_version,
                username=self.username, password=self.password,
            )
        store.ensure_schema()
        return store
