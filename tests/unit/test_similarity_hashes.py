"""Copy hashes: golden values on real photos, border trimming, mirror images."""

import cv2
import numpy as np
import pytest

from photoatlas.content.images import to_grey
from photoatlas.imaging.hashes import hamming, phash
from photoatlas.similarity.hashes import copy_hashes, trim_borders
from photoatlas.similarity.samples import sample_photos

# (copy pHash, copy pHash of the mirror) of the sample photos; a change here re-keys every index.
GOLDEN = {
    "astronaut": (0xC2924C5532BDDFC8, 0x97C7191867E88A9D),
    "chelsea": (0xB15FE6465121175E, 0xF40AB33B5474C28F),
    "coffee": (0xBB8320376C0F3637, 0xEED67562195A6322),
    "china": (0x9DB8C2C7465D3B24, 0xC8EDB7921328EE70),
    "flower": (0x9B64386633CDC96C, 0xCE316D3366989C39),
    "camera": (0xBFF1C1C0434E8CBC, 0xEAA49495161BD9E9),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_copy_hashes(name):
    assert copy_hashes(to_grey(sample_photos()[name])) == GOLDEN[name]


def test_a_mirrored_photo_hashes_to_the_original_mirror_hash():
    grey = to_grey(sample_photos()["chelsea"])
    h, m = copy_hashes(grey)
    fh, fm = copy_hashes(np.ascontiguousarray(grey[:, ::-1]))
    assert (fh, fm) == (m, h)
    assert hamming(h, m) > 16  # a flip is far away for the plain hash: the mirror lookup is needed


def test_plain_borders_are_trimmed_and_busy_edges_kept():
    grey = to_grey(sample_photos()["coffee"])
    framed = cv2.copyMakeBorder(grey, 20, 20, 30, 30, cv2.BORDER_CONSTANT, value=255)
    assert trim_borders(framed).shape == grey.shape
    assert copy_hashes(framed) == copy_hashes(grey)
    assert hamming(phash(framed), phash(grey)) > 4  # why the copy hash trims
    assert trim_borders(grey).shape == grey.shape


def test_trimming_never_takes_more_than_a_quarter_per_side():
    flat = np.full((100, 80), 128, np.uint8)
    assert trim_borders(flat).shape == (50, 40)
