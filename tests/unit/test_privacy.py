import os
import stat

import pytest
from cryptography.fernet import Fernet

from photoatlas.privacy import ENV_KEYS, Cipher, KeyProblem, coarsen, load_keys


def test_local_key_is_created_owner_only_and_reused(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv(ENV_KEYS, raising=False)
    keys = load_keys(tmp_path / "secrets")
    path = tmp_path / "secrets" / "fernet.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "created a new local encryption key" in caplog.text
    assert load_keys(tmp_path / "secrets") == keys


def test_world_readable_key_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_KEYS, raising=False)
    load_keys(tmp_path)
    os.chmod(tmp_path / "fernet.keys", 0o644)
    with pytest.raises(KeyProblem, match="chmod 600"):
        load_keys(tmp_path)


def test_without_env_or_folder_there_is_no_key(monkeypatch):
    monkeypatch.delenv(ENV_KEYS, raising=False)
    with pytest.raises(KeyProblem, match=ENV_KEYS):
        load_keys(None)


def test_garbage_key_is_refused(monkeypatch):
    monkeypatch.setenv(ENV_KEYS, "not-a-key")
    with pytest.raises(KeyProblem, match="not a Fernet key"):
        load_keys(None)


def test_rotation_old_tokens_still_decrypt_and_rotate_to_new_key(monkeypatch):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = Cipher([old]).encrypt("Jane Doe")
    monkeypatch.setenv(ENV_KEYS, f"{new.decode()},{old.decode()}")
    rotated_cipher = Cipher(load_keys(None))
    assert rotated_cipher.decrypt_str(token) == "Jane Doe"
    rotated = rotated_cipher.rotate(token)
    assert Cipher([new]).decrypt_str(rotated) == "Jane Doe"
    with pytest.raises(KeyProblem):
        Cipher([Fernet.generate_key()]).decrypt(token)


def test_none_stays_none_and_tokens_hide_plaintext(cipher):
    assert cipher.encrypt(None) is None and cipher.decrypt(None) is None
    token = cipher.encrypt("40.758012,-73.985512")
    assert b"40.758" not in token


def test_coarsen_keeps_two_decimals():
    assert coarsen(40.758012) == 40.76
    assert coarsen(None) is None
