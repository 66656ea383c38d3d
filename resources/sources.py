"""Pull sources, configured from the environment; a source with no configuration stays off."""

import json
import os

from dagster import ConfigurableResource
from pydantic import Field

from photoatlas.sources.base import Source

SOURCES = ("flickr", "unsplash", "video", "kafka")


class SourcesResource(ConfigurableResource):
    """Settings of each pull source. JSON strings keep the resource flat for the UI."""

    flickr_query: str | None = Field(default=None, description='JSON, e.g. {"text": "harbour", "languages": ["en", "fr"], "since": "2024-01-01", "bbox": [-74.3, 40.5, -73.7, 40.9], "open_only": true} (FlickrQuery.from_dict); key in FLICKR_API_KEY')
    unsplash_dataset: str | None = Field(default=None, description="path or URL of the Unsplash Lite photos.tsv* (or its zip)")
    unsplash_width_px: int = 1080
    video_feeds: str | None = Field(default=None, description='JSON list: [{"id": "cam1", "location": "/videos/cam1.mp4", "started_at": "2026-01-01T00:00:00Z"}]')
    video_frames_per_s: float = 1.0
    kafka_bootstrap: str | None = None
    kafka_topic: str | None = None
    kafka_group: str = "photoatlas"
    kafka_objects: str | None = Field(default=None, description="where messages' object keys are read: s3://bucket[/prefix] or a local folder; s3:// URLs in messages (any bucket) use the same S3 client")
    s3_endpoint_url: str | None = Field(default=None, description="S3-protocol endpoint for kafka_objects, as the lake's (PHOTOATLAS_S3_ENDPOINT); None = AWS")
    s3_region: str | None = Field(default=None, description="region for kafka_objects, as the lake's (AWS_REGION)")
    batch_limit: int = Field(default=500, ge=1, description="items per pull run")

    def configured(self) -> list[str]:
        flags = {"flickr": self.flickr_query, "unsplash": self.unsplash_dataset, "video": self.video_feeds,
                 "kafka": self.kafka_bootstrap and self.kafka_topic}
        return [name for name in SOURCES if flags[name]]

    def build(self, name: str) -> Source:
        if name not in self.configured():
            raise ValueError(f"source {name!r} is not configured (see README, Sources)")
        if name == "flickr":
            from photoatlas.sources.flickr import FlickrSource
            from photoatlas.sources.flickr_query import FlickrQuery

            return FlickrSource(FlickrQuery.from_dict(json.loads(self.flickr_query)))
        if name == "unsplash":
            from photoatlas.sources.unsplash import UnsplashLiteSource

            return UnsplashLiteSource(self.unsplash_dataset, width=self.unsplash_width_px)
        if name == "video":
            from photoatlas.sources.video import Feed, VideoSource

            feeds = [Feed.from_dict(f) for f in json.loads(self.video_feeds)]
            return VideoSource(feeds, frames_per_s=self.video_frames_per_s)
        from photoatlas.sources.kafka import KafkaSource
        from photoatlas.sources.kafka_objects import objects_getter

        getter = objects_getter(self.kafka_objects, self.s3_endpoint_url, self.s3_region) if self.kafka_objects else None
        return KafkaSource(self.kafka_bootstrap, self.kafka_topic, self.kafka_group, object_getter=getter)


def sources_from_env() -> SourcesResource:
    return SourcesResource(
        flickr_query=os.environ.get("PHOTOATLAS_FLICKR_QUERY"),
        unsplash_dataset=os.environ.get("PHOTOATLAS_UNSPLASH_DATASET"),
        video_feeds=os.environ.get("PHOTOATLAS_VIDEO_FEEDS"),
        kafka_bootstrap=os.environ.get("PHOTOATLAS_KAFKA_BOOTSTRAP"),
        kafka_topic=os.environ.get("PHOTOATLAS_KAFKA_TOPIC"),
        kafka_objects=os.environ.get("PHOTOATLAS_KAFKA_OBJECTS"),
        s3_endpoint_url=os.environ.get("PHOTOATLAS_S3_ENDPOINT"),  # the lake's S3 settings
        s3_region=os.environ.get("AWS_REGION"),
    )
