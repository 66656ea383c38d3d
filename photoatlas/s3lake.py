"""The lake on S3 (or any S3-protocol store): boto3 with adaptive retries on throttling and 5xx.

Credentials come from the usual AWS chain (environment, profile, instance role); only the
endpoint, region and bucket are configuration. Each object is one PUT, so a table file is
either the old or the new one, never a mix.
"""

from dataclasses import asdict, dataclass
from functools import cached_property

from photoatlas.lake import KeyNotFound, Lake

MAX_ATTEMPTS = 8


def s3_client(endpoint_url: str | None = None, region: str | None = None):
    """A boto3 S3 client as the lake uses it: credentials from the AWS chain, adaptive retries."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": MAX_ATTEMPTS, "mode": "adaptive"}, connect_timeout=10, read_timeout=60)
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


@dataclass(frozen=True)
class S3Lake(Lake):
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None

    @cached_property
    def _client(self):
        return s3_client(self.endpoint_url, self.region)

    def __getstate__(self):  # the boto3 client is rebuilt where the lake is unpickled
        return asdict(self)

    def __setstate__(self, state):
        for k, v in state.items():
            object.__setattr__(self, k, v)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        if self.exists(key):
            return False
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise KeyNotFound(self.uri(key)) from None
            raise

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def list(self, prefix: str) -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        return sorted(keys)

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def uri(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def spec(self) -> dict:
        return {"kind": "s3", **asdict(self)}
