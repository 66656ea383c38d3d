"""Encryption at rest for sensitive photo metadata (owner, exact GPS, serials, the EXIF blob).

Keys come from ``PHOTOATLAS_FERNET_KEYS`` (comma-separated Fernet keys, newest first, so keys
can rotate with MultiFernet). A local installation without the variable gets a key created
under ``$PHOTOATLAS_HOME/secrets`` with owner-only permissions. There is no key in the code.
"""

import logging
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV_KEYS = "PHOTOATLAS_FERNET_KEYS"
LOCAL_KEY_FILE = "fernet.keys"
COARSE_DECIMALS = 2  # ~1.1 km at the equator: fine for county/city counts, not a doorstep

log = logging.getLogger(__name__)


class KeyProblem(RuntimeError):
    """No usable key: says where keys are looked for."""


def parse_keys(text: str, where: str) -> list[bytes]:
    keys = [k.strip().encode() for k in text.replace("\n", ",").split(",") if k.strip()]
    if not keys:
        raise KeyProblem(f"no Fernet key in {where}")
    for k in keys:
        try:
            Fernet(k)
        except (ValueError, TypeError):
            raise KeyProblem(f"{where} holds a value that is not a Fernet key (32 url-safe base64 bytes)") from None
    return keys


def load_keys(secrets_dir: Path | None = None, create: bool = True) -> list[bytes]:
    """Keys from the environment, else the local key file (created on first use when allowed)."""
    env = os.environ.get(ENV_KEYS)
    if env:
        return parse_keys(env, f"${ENV_KEYS}")
    if secrets_dir is None:
        raise KeyProblem(f"set ${ENV_KEYS} (comma-separated Fernet keys, newest first)")
    path = Path(secrets_dir) / LOCAL_KEY_FILE
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyProblem(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
        return parse_keys(path.read_text(), str(path))
    if not create:
        raise KeyProblem(f"no key: set ${ENV_KEYS} or create {path}")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(Fernet.generate_key().decode() + "\n")
    log.warning("created a new local encryption key at %s (owner-only); back it up, or set $%s", path, ENV_KEYS)
    return parse_keys(path.read_text(), str(path))


class Cipher:
    """Encrypts/decrypts optional strings; None stays None (no token for absent data)."""

    def __init__(self, keys: list[bytes]):
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, value: str | bytes | None) -> bytes | None:
        if value is None:
            return None
        data = value.encode() if isinstance(value, str) else value
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes | None) -> bytes | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise KeyProblem("token does not decrypt with any configured key (was the key rotated away?)") from None

    def decrypt_str(self, token: bytes | None) -> str | None:
        data = self.decrypt(token)
        return None if data is None else data.decode()

    def rotate(self, token: bytes | None) -> bytes | None:
        return None if token is None else self._fernet.rotate(token)


def coarsen(value: float | None, decimals: int = COARSE_DECIMALS) -> float | None:
    return None if value is None else round(float(value), decimals)
