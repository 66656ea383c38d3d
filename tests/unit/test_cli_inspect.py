"""`photoatlas inspect`: one file's record, computed directly — never a crash, secrets shown as such."""

import json

import pytest

from photoatlas.cli import ENCRYPTED, main


@pytest.mark.parametrize("name, status, reason", [
    ("chelsea.jpg", "ok", None),
    ("bomb.png", "quarantined", "decompression_bomb"),
    ("empty.jpg", "quarantined", "empty_file"),
    ("notes.jpg", "quarantined", "not_an_image"),
])
def test_inspect_prints_the_record_or_the_reason(sample_dir, capsys, name, status, reason):
    root, _ = sample_dir
    assert main(["inspect", str(root / name), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == status and record.get("quarantine_reason") == reason


def test_inspect_shows_places_content_and_hides_what_is_encrypted(sample_dir, capsys):
    root, _ = sample_dir
    assert main(["inspect", str(root / "chelsea.jpg")]) == 0
    out = capsys.readouterr().out
    assert "county=36061" in out and "concepts cat" in out
    assert f"owner    {ENCRYPTED}" in out and "Demo Owner" not in out


def test_inspect_of_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.jpg")]) == 2
    assert "no such file" in capsys.readouterr().err
