"""Photo sources: each lists what is new after a JSON cursor and fetches items into Arrivals.

- ``base``: the Source interface, Failure records (ingest-error rows) and ``collect``.
- ``pulling``: chunked pulls for ``photoatlas ingest <source>``: each chunk landed, then its cursor file saved.
- ``http`` / ``ratelimit``: the shared careful GET and a token bucket.
- ``flickr`` (+ ``flickr_api``, ``licences``): flickr.photos.search, sliced past 4,000 results.
- ``flickr_query``: what a Flickr query selects (FlickrQuery, its language Variants, from_dict).
- ``glossary``: word-by-word translation of query text and tags (``glossary.json``).
- ``unsplash``: the Unsplash Lite/Full dataset's photos.tsv, images at a chosen width.
- ``video``: frames sampled from video files, segment folders and streams (OpenCV).
- ``kafka``: a topic of photo references (confluent-kafka), committed after hand-over.
- ``kafka_backlog``: how far the group is behind (no poll, no group join) and the sensor's pull plan.
- ``kafka_objects``: where messages' object keys and s3:// URLs are read (an S3 bucket or a folder).

The source modules are imported on demand, so using one does not need the others' libraries.
"""

from photoatlas.sources.base import Batch, Failure, Source, collect, failures_table

__all__ = ["Batch", "Failure", "Source", "collect", "failures_table"]
