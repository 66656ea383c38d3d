"""Where local state lives. Everything a local installation writes is under one home folder.

``PHOTOATLAS_HOME`` (default ``./data``) holds the lake, the inbox, the Dagster instance,
the embedded stores and the local encryption key, so two installations never share state.
"""

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "data"


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls) -> "Home":
        return cls(Path(os.environ.get("PHOTOATLAS_HOME", DEFAULT_HOME)).expanduser().resolve())

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def dagster(self) -> Path:
        return self.root / "dagster"

    @property
    def stores(self) -> Path:
        return self.root / "stores"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def alerts(self) -> Path:
        return self.root / "alerts"

    def ensure(self) -> "Home":
        for path in (self.lake, self.inbox, self.dagster, self.stores):
            path.mkdir(parents=True, exist_ok=True)
        return self
