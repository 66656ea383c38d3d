import os

import pytest
from cryptography.fernet import Fernet

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private PHOTOATLAS_HOME (and DAGSTER_HOME inside it) for one test."""
    from photoatlas.config import Home

    monkeypatch.setenv("PHOTOATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PHOTOATLAS_FERNET_KEYS", raising=False)
    h = Home.from_env().ensure()
    monkeypatch.setenv("DAGSTER_HOME", str(h.dagster))
    return h


@pytest.fixture
def cipher():
    from photoatlas.privacy import Cipher

    return Cipher([Fernet.generate_key()])


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """The demo's sample set, built once per test session."""
    from photoatlas import sample

    target = tmp_path_factory.mktemp("samples")
    files = sample.build(target)
    return target, files
