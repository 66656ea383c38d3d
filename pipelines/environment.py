"""The one switch between the local embedded set of resources and production's.

``PHOTOATLAS_ENV=local`` (default): lake under $PHOTOATLAS_HOME, Spark local[*], generated key.
``PHOTOATLAS_ENV=production``: lake URL, S3 endpoint, Spark master and keys from the environment.
"""

import os

from dagster import EnvVar

from photoatlas.config import Home
from resources.alerts import AlertsResource, alerts_from_env
from resources.color_index import ColorIndexResource
from resources.content import ContentModelsResource, SimilarityIndexResource
from resources.counts_store import CountsStoreResource
from resources.inbox import InboxResource
from resources.lake import LakeResource
from resources.secrets import CipherResource
from resources.settings import EnrichmentSettings
from resources.sources import sources_from_env
from resources.spark import spark_resource


def local_resources(home: Home | None = None) -> dict:
    home = home or Home.from_env()
    return {
        "lake": LakeResource(url=str(home.lake)),
        "inbox": InboxResource(path=str(home.inbox)),
        "cipher": CipherResource(fernet_keys=os.environ.get("PHOTOATLAS_FERNET_KEYS") or None, local_key_dir=str(home.secrets)),
        "spark": spark_resource(os.environ.get("PHOTOATLAS_SPARK_MASTER")),
        "settings": EnrichmentSettings(),
        "alerts": AlertsResource(alerts_dir=str(home.alerts)),
        "counts": CountsStoreResource(kind="duckdb", duckdb_path=str(home.stores / "counts.duckdb")),
        "content": ContentModelsResource(),
        "similarity": SimilarityIndexResource(path=str(home.stores / "similarity")),
        "sources": sources_from_env(),
        "colors": ColorIndexResource(kind="embedded", path=str(home.stores / "colors")),
    }


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"PHOTOATLAS_ENV=production needs ${name} (see README, Production)")
    return value


def production_resources() -> dict:
    home = Home.from_env()
    return {
        "lake": LakeResource(
            url=_required("PHOTOATLAS_LAKE_URL"),
            endpoint_url=os.environ.get("PHOTOATLAS_S3_ENDPOINT"),
            region=os.environ.get("AWS_REGION"),
        ),
        "inbox": InboxResource(path=os.environ.get("PHOTOATLAS_INBOX", str(home.inbox))),
        "cipher": CipherResource(fernet_keys=EnvVar("PHOTOATLAS_FERNET_KEYS"), allow_create=False),
        "spark": spark_resource(os.environ.get("PHOTOATLAS_SPARK_MASTER")),
        "settings": EnrichmentSettings(),
        "alerts": alerts_from_env(),
        "content": ContentModelsResource(
            objects=bool(os.environ.get("PHOTOATLAS_OBJECTS_WEIGHTS")),
            objects_weights=os.environ.get("PHOTOATLAS_OBJECTS_WEIGHTS"),
            concepts_path=os.environ.get("PHOTOATLAS_CONCEPTS"),
        ),
        "similarity": SimilarityIndexResource(path=os.environ.get("PHOTOATLAS_SIMILARITY_DIR", str(home.stores / "similarity"))),
        "sources": sources_from_env(),
        "counts": CountsStoreResource(
            kind="cassandra",
            hosts=_required("PHOTOATLAS_CASSANDRA_HOSTS"),
            port=int(os.environ.get("PHOTOATLAS_CASSANDRA_PORT", "9042")),
            keyspace=os.environ.get("PHOTOATLAS_CASSANDRA_KEYSPACE", "photoatlas"),
            consistency=os.environ.get("PHOTOATLAS_CASSANDRA_CONSISTENCY", "LOCAL_QUORUM"),
            protocol_version=int(os.environ["PHOTOATLAS_CASSANDRA_PROTOCOL"]) if os.environ.get("PHOTOATLAS_CASSANDRA_PROTOCOL") else None,
            username=os.environ.get("PHOTOATLAS_CASSANDRA_USERNAME"),
            password=EnvVar("PHOTOATLAS_CASSANDRA_PASSWORD") if os.environ.get("PHOTOATLAS_CASSANDRA_PASSWORD") else None,
        ),
        "colors": ColorIndexResource(
            kind="elasticsearch",
            url=_required("PHOTOATLAS_ES_URL"),
            api_key=EnvVar("PHOTOATLAS_ES_API_KEY") if os.environ.get("PHOTOATLAS_ES_API_KEY") else None,
            alias=os.environ.get("PHOTOATLAS_ES_ALIAS", "photoatlas-colors"),
            version=int(os.environ.get("PHOTOATLAS_ES_INDEX_VERSION", "1")),
        ),
    }


def resource(key: str):
    """One configured resource for use outside a run (the CLI), with EnvVar values resolved."""
    return resources_for()[key].process_config_and_initialize()


def resources_for(env: str | None = None) -> dict:
    env = env or os.environ.get("PHOTOATLAS_ENV", "local")
    if env == "local":
        return local_resources()
    if env == "production":
        return production_resources()
    raise ValueError(f"PHOTOATLAS_ENV must be 'local' or 'production', not {env!r}")
