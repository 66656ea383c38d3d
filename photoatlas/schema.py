"""The lake's table schemas, defined once. Every writer and reader goes through these.

Conventions:
- ``photo_id`` is the lowercase hex sha256 of the photo's bytes.
- ``partition`` is the ingest-hour key, ``YYYY-MM-DD-HH:00`` (UTC), as Dagster names it.
- 64-bit perceptual hashes are stored as ``int64`` holding the hash's exact bit pattern
  (two's complement reinterpretation of the unsigned value, see ``photoatlas.imaging.hashes``):
  lossless, and readable by Parquet, Spark, DuckDB and pandas alike.
- Fields named ``*_enc`` hold Fernet tokens (see ``photoatlas.privacy``); there is never a
  plaintext twin of an encrypted field.
"""

import pyarrow as pa

PALETTE_COLOR = pa.struct(
    [
        ("l", pa.float64()),
        ("a", pa.float64()),
        ("b", pa.float64()),
        ("hex", pa.string()),
        ("share", pa.float64()),
    ]
)

# One row per photo that arrived in an hour and was new to the lake.
MANIFEST_SCHEMA = pa.schema(
    [
        ("photo_id", pa.string()),
        ("partition", pa.string()),
        ("source", pa.string()),  # inbox | s3 | flickr | unsplash | video | kafka
        ("source_id", pa.string()),  # the source's own id (inbox: relative path)
        ("original_name", pa.string()),
        ("object_key", pa.string()),  # where the bytes live in the lake
        ("bytes", pa.int64()),
        ("format", pa.string()),  # sniffed from content; null when unrecognised
        ("arrived_at", pa.timestamp("us", tz="UTC")),
        ("title", pa.string()),
        ("description", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("licence", pa.string()),
        ("url", pa.string()),
        ("taken_at", pa.string()),  # as the source gave it (ISO 8601), unparsed
        ("owner_enc", pa.binary()),
        ("owner_id_enc", pa.binary()),
        ("source_latlon_enc", pa.binary()),  # exact "lat,lon" from the source
        ("source_lat_coarse", pa.float64()),  # 2 decimals (~1 km), clear for aggregation
        ("source_lon_coarse", pa.float64()),
        ("ingest_warnings", pa.list_(pa.string())),
    ]
)

# Arrivals that were not new: same bytes as a photo already in the lake (or twice in the hour).
DUPLICATES_SCHEMA = pa.schema(
    [
        ("photo_id", pa.string()),
        ("partition", pa.string()),
        ("source", pa.string()),
        ("source_id", pa.string()),
        ("first_partition", pa.string()),
        ("first_source_id", pa.string()),
    ]
)

# One row per manifest row: the enriched record.
RECORD_SCHEMA = pa.schema(
    [
        ("photo_id", pa.string()),
        ("partition", pa.string()),
        ("status", pa.string()),  # ok | quarantined
        ("quarantine_reason", pa.string()),  # reason code, null when ok
        ("quarantine_detail", pa.string()),
        ("source", pa.string()),
        ("source_id", pa.string()),
        ("title", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("licence", pa.string()),
        ("format", pa.string()),
        ("mode", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("frames", pa.int32()),
        ("decode_scale", pa.int8()),
        ("bytes", pa.int64()),
        ("palette", pa.list_(PALETTE_COLOR)),
        ("color_hist", pa.list_(pa.float32())),
        ("phash", pa.int64()),
        ("dhash", pa.int64()),
        ("ahash", pa.int64()),
        ("thumbnail_key", pa.string()),
        # EXIF, typed. Serial numbers, exact GPS and the raw blob are encrypted.
        ("exif_make", pa.string()),
        ("exif_model", pa.string()),
        ("exif_lens", pa.string()),
        ("exif_captured_at", pa.string()),  # local wall-clock time, ISO 8601
        ("exif_offset", pa.string()),  # "+02:00" when the camera recorded it
        ("exif_exposure_s", pa.float64()),
        ("exif_f_number", pa.float64()),
        ("exif_iso", pa.int32()),
        ("exif_focal_mm", pa.float64()),
        ("exif_error", pa.string()),
        ("exif_serials_enc", pa.binary()),
        ("exif_raw_enc", pa.binary()),
        ("gps_enc", pa.binary()),  # exact "lat,lon,alt" from EXIF
        # Location used for places: EXIF GPS first, else the source's coordinates; coarsened.
        ("lat_coarse", pa.float64()),
        ("lon_coarse", pa.float64()),
        ("location_source", pa.string()),  # exif | source | null
        # Five geographic levels, looked up offline from the exact location (see photoatlas.geo).
        ("place_country", pa.string()),  # ISO 3166-1 alpha-2
        ("place_admin1", pa.string()),  # 'US-CA' in the US, 'FR:Île-de-France' elsewhere
        ("place_county", pa.string()),  # 5-digit FIPS, US only
        ("place_county_name", pa.string()),
        ("place_city", pa.string()),  # nearest GeoNames place
        ("place_city_km", pa.float64()),
        ("place_geohash", pa.string()),
        # Capture time used for temporal levels, and where it came from.
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("time_source", pa.string()),  # exif | source | ingest
        ("owner_enc", pa.binary()),
        ("owner_id_enc", pa.binary()),
        ("warnings", pa.list_(pa.string())),
    ]
)
