"""A small synthetic MS1M pack: each identity is a face-sized image with its own colours and shapes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facelib.data.recordio import write_ms1m

IDENTITIES, PER_IDENTITY = 6, 8


def synthetic_identities(seed: int = 0) -> list[list[bytes]]:
    rng = np.random.default_rng(seed)
    groups = []
    for identity in range(IDENTITIES):
        colour = rng.integers(40, 215, 3)
        centre = rng.integers(35, 77, 2)
        images = []
        for _ in range(PER_IDENTITY):
            image = np.full((112, 112, 3), 127, np.uint8)
            cv2.circle(image, tuple(int(c) for c in centre + rng.integers(-3, 4, 2)), 20 + identity * 3,
                       tuple(int(c) for c in colour), -1)
            image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
            images.append(cv2.imencode(".jpg", image)[1].tobytes())
        groups.append(images)
    return groups


@pytest.fixture
def tiny_pack(tmp_path):
    return write_ms1m(tmp_path / "pack", synthetic_identities())


@pytest.fixture
def identities():
    """The synthetic identities as encoded JPEGs (``write_ms1m`` input), to write packs of one's own."""
    return synthetic_identities()
