import pytest


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    from tests.servers.s3 import S3Server

    server = S3Server(tmp_path_factory.mktemp("s3")).start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    for k, v in s3_server.env().items():
        monkeypatch.setenv(k, v)
    return s3_server


@pytest.fixture(scope="module")
def kafka(tmp_path_factory):
    """A Tansu broker (Kafka protocol) on loopback, one per test module."""
    from tests.servers.kafka import KafkaServer

    server = KafkaServer(tmp_path_factory.mktemp("tansu")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cdn():
    """A local image CDN that the Kafka messages' URLs point at."""
    from tests.servers.http_fakes import FakeImageCDN

    with FakeImageCDN() as server:
        yield server


from tests.servers.cassandra import cassandra_server  # noqa: E402,F401  (one node per session, shared)
from tests.servers.elasticsearch import elasticsearch_server  # noqa: E402,F401  (one ES-API server per session)
