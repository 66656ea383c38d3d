"""The inbox: the folder photos are dropped into for ingestion."""

from pathlib import Path

from dagster import ConfigurableResource

from photoatlas import inbox


class InboxResource(ConfigurableResource):
    """A local folder scanned for new photos (and their JSON sidecars)."""

    path: str

    def files(self) -> list[inbox.InboxFile]:
        return inbox.scan(Path(self.path))

    def files_by_hour(self) -> dict[str, list[inbox.InboxFile]]:
        return inbox.by_hour(self.files())
