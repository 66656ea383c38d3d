"""The lake resource: a local folder by default, an S3 prefix in production."""

from dagster import ConfigurableResource
from pydantic import Field

from photoatlas.lake import Lake, lake_from_url


class LakeResource(ConfigurableResource):
    """Where photos, thumbnails and the stage tables live."""

    url: str = Field(description="a folder path, or s3://bucket/prefix")
    endpoint_url: str | None = Field(default=None, description="S3-protocol endpoint (MinIO, SeaweedFS, ...); None = AWS")
    region: str | None = None

    def lake(self) -> Lake:
        if self.url.startswith("s3://"):
            return lake_from_url(self.url, endpoint_url=self.endpoint_url, region=self.region)
        return lake_from_url(self.url)
