"""A pull source lands its photos in the inbox; raw_photos ingests them under the source's name."""

import json
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest
from dagster import DagsterInstance, build_schedule_context, materialize

from assets.raw_photos import raw_photos
from assets.sources import pull_assets
from photoatlas.landing import land
from photoatlas.lake import LocalLake, table_key
from photoatlas.partitions import hour_key
from photoatlas.sources.base import Failure
from resources.sources import SourcesResource
from sensors.pull_schedule import pull_schedule

pytestmark = pytest.mark.dagster
VIDEO_PULL = next(a for a in pull_assets if a.key.path[-1] == "video_pull")


def _video(path, seconds=3, fps=10):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (96, 64))
    for i in range(seconds * fps):
        frame = np.zeros((64, 96, 3), np.uint8)
        frame[:, :, i % 3] = 40 + 6 * i  # each frame differs, so each is its own photo
        writer.write(frame)
    writer.release()


def test_video_frames_land_resume_and_are_ingested(home, resources, tmp_path):
    _video(tmp_path / "cam1.avi")
    feeds = json.dumps([{"id": "cam1", "location": str(tmp_path / "cam1.avi"), "started_at": "2026-06-01T10:00:00Z"}])
    sources = SourcesResource(video_feeds=feeds, video_frames_per_s=1.0)
    res = {**resources, "sources": sources}
    with DagsterInstance.ephemeral() as instance:
        first = materialize([VIDEO_PULL], resources=res, instance=instance)
        meta = first.asset_materializations_for_node("video_pull")[0].metadata
        assert meta["landed"].value == 3 and meta["failed"].value == 0
        again = materialize([VIDEO_PULL], resources=res, instance=instance)
        assert again.asset_materializations_for_node("video_pull")[0].metadata["landed"].value == 0  # the cursor resumed

        hour = hour_key(datetime.now(timezone.utc))
        assert materialize([raw_photos], partition_key=hour, resources=res, instance=instance).success
    manifest = LocalLake(str(home.lake)).read_table(table_key("manifest", hour)).to_pylist()
    assert sorted(r["source"] for r in manifest) == ["video"] * 3
    assert all(r["source_id"].startswith("cam1") and r["taken_at"].startswith("2026-06-01T10:00:0") for r in manifest)


def test_landed_failures_become_ingest_errors(home, resources):
    land([], [Failure("flickr", "123", "http_404", "gone")], home.inbox, "flickr")
    hour = hour_key(datetime.now(timezone.utc))
    with DagsterInstance.ephemeral() as instance:
        result = materialize([raw_photos], partition_key=hour, resources=resources, instance=instance)
    assert result.success
    errors = LocalLake(str(home.lake)).read_table(table_key("ingest_errors", hour)).to_pylist()
    assert [(e["source"], e["source_id"]) for e in errors] == [("flickr", "123")] and "http_404" in errors[0]["reason"]
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()}["no_ingest_errors"] is False


def test_the_hourly_schedule_pulls_only_configured_batch_sources():
    none = pull_schedule(build_schedule_context(resources={"sources": SourcesResource()}))
    assert "no hourly pull source is configured" in none.skip_message
    only_kafka = SourcesResource(kafka_bootstrap="127.0.0.1:1", kafka_topic="t")  # the Kafka sensor owns it
    assert "kafka_sensor" in pull_schedule(build_schedule_context(resources={"sources": only_kafka})).skip_message
    ctx = build_schedule_context(resources={"sources": SourcesResource(video_feeds="[]", kafka_bootstrap="127.0.0.1:1", kafka_topic="t")},
                                 scheduled_execution_time=datetime(2026, 6, 1, 10, 5, tzinfo=timezone.utc))
    request = pull_schedule(ctx)
    assert request.run_key == "pull:2026-06-01T10"
    assert sorted(k.path[-1] for k in request.asset_selection) == ["video_pull"]
