"""Photo sources: each lists what is new after a JSON cursor and fetches items into Arrivals.

- ``base``: the Source interface, Failure records (ingest-error rows) and ``collect``.
- ``http`` / ``ratelimit``: the shared careful GET and a token bucket.
- ``flickr`` (+ ``flickr_api``, ``licences``): flickr.photos.search, sliced past 4,000 results.
- ``unsplash``: the Unsplash Lite/Full dataset's photos.tsv, images at a chosen width.
- ``video``: frames sampled from video files, segment folders and streams (OpenCV).
- ``kafka``: a topic of photo references (confluent-kafka), committed after hand-over.

The source modules are imported on demand, so using one does not need the others' libraries.
"""

from photoatlas.sources.base import Batch, Failure, Source, collect, failures_table

__all__ = ["Batch", "Failure", "Source", "collect", "failures_table"]
