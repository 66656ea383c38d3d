"""Encryption keys for sensitive metadata: from the environment, or a local key file."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from photoatlas.privacy import Cipher, load_keys, parse_keys


class CipherResource(ConfigurableResource):
    """Fernet keys (newest first). Production passes ``EnvVar('PHOTOATLAS_FERNET_KEYS')``."""

    fernet_keys: str | None = Field(default=None, description="comma-separated Fernet keys; never put a literal here")
    local_key_dir: str | None = Field(default=None, description="where a local installation keeps a generated key")
    allow_create: bool = True

    def cipher(self) -> Cipher:
        if self.fernet_keys:
            return Cipher(parse_keys(self.fernet_keys, "the cipher resource's keys"))
        return Cipher(load_keys(Path(self.local_key_dir) if self.local_key_dir else None, create=self.allow_create))
