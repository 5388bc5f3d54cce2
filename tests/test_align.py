"""facelib.align on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facelib.align import ARCFACE_TEMPLATE, crop_face, norm_crop, similarity_transform, square_box


def _apply(matrix, points):
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_similarity_transform_recovers_a_known_similarity():
    angle, scale, shift = math.radians(30), 2.5, np.array([10.0, -4.0])
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    source = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [2.0, 3.0], [-1.0, 0.5]])
    target = source @ (scale * rotation).T + shift
    matrix = similarity_transform(source, target)
    assert np.allclose(matrix[:, :2], scale * rotation) and np.allclose(matrix[:, 2], shift)


def test_similarity_transform_is_the_least_squares_fit_on_noisy_points():
    # Two points swapped roles: the best similarity for {(0,0)->(0,0), (2,0)->(0,2)} is a 90 degree turn.
    matrix = similarity_transform(np.array([[0.0, 0.0], [2.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 2.0]]))
    assert np.allclose(matrix, [[0, -1, 0], [1, 0, 0]], atol=1e-12)
    # A reflection cannot be fitted by a similarity: the fit is a rotation, never a mirror.
    source = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    matrix = similarity_transform(source, source * [-1.0, 1.0])
    assert np.linalg.det(matrix[:, :2]) > 0


def test_norm_crop_puts_the_landmarks_on_the_template():
    angle = math.radians(-20)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    landmarks = ARCFACE_TEMPLATE @ (1.7 * rotation).T + [60.0, 40.0]
    image = np.zeros((300, 300, 3), np.uint8)
    for x, y in landmarks.round().astype(int):
        image[y - 1:y + 2, x - 1:x + 2] = 255
    aligned = norm_crop(image, landmarks)
    assert aligned.shape == (112, 112, 3)
    for x, y in ARCFACE_TEMPLATE.round().astype(int):
        assert aligned[y, x].max() > 100  # the dots land on the template points
    assert np.allclose(similarity_transform(landmarks, ARCFACE_TEMPLATE)[:, :2] * 1.7, rotation.T, atol=1e-9)


def test_norm_crop_rejects_bad_landmarks():
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        norm_crop(np.zeros((50, 50, 3), np.uint8), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        norm_crop(np.zeros((50, 50, 3), np.uint8), np.full((5, 2), np.nan))


def test_square_box_and_crop_face():
    assert np.allclose(square_box((10, 20, 30, 60)), [0, 20, 40, 60])
    assert np.allclose(square_box((10, 20, 30, 60), margin=0.5), [-10, 10, 50, 70])
    with pytest.raises(ValueError, match="x2 > x1"):
        square_box((10, 20, 5, 60))
    image = (np.arange(64 * 64 * 3) % 251).astype(np.uint8).reshape(64, 64, 3)
    assert np.array_equal(crop_face(image, (0, 0, 64, 64), margin=0.0, size=64), image)  # whole image: identity
    y, x = np.mgrid[0:64, 0:64]
    ramp = np.repeat((x + 2 * y)[..., None], 3, axis=2).astype(np.uint8)
    half = crop_face(ramp, (0, 0, 32, 32), margin=0.0, size=64)  # 2x upscale of the top-left quarter
    j = np.arange(2, 62)  # interior: output pixel j reads input position j / 2 - 0.25 (pixel centres)
    expected = (j[None, :] / 2 - 0.25) + 2 * (j[:, None] / 2 - 0.25)
    assert np.abs(half[2:62, 2:62, 0] - expected).max() <= 0.6
    assert crop_face(image, (-40, -40, -10, -10), margin=0.0).max() == 0  # outside: zeros
