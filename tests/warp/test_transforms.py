"""facelib.warp.transforms: module wrappers and the random RoI/rotation augmentation."""

from __future__ import annotations

import math

import pytest
import torch

from facelib.warp import RandomRoIWarp, RoIRestore, RoIWarp
from facelib.warp import functional as W


def _batch(batch: int = 6):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 3, 64, 80, generator=generator)
    rois = torch.tensor([[20.0, 10.0, 60.0, 55.0]]).repeat(batch, 1)
    return images, rois


def test_modules_match_the_functions():
    images, rois = _batch()
    module = RoIWarp("roi_tanh_circular", (40, 48), keep_aspect_ratio=True)
    warped = module(images, rois, 0.2)
    assert torch.equal(warped, W.warp(images, rois, (40, 48), "roi_tanh_circular", 0.2, keep_aspect_ratio=True))
    restored = RoIRestore("roi_tanh_circular", (64, 80), keep_aspect_ratio=True)(warped, rois, 0.2)
    assert torch.equal(restored, W.restore(warped, rois, (64, 80), "roi_tanh_circular", 0.2,
                                           keep_aspect_ratio=True))
    assert "roi_tanh_circular" in repr(module)


def test_augmentation_returns_the_geometry_it_used():
    images, rois = _batch()
    augment = RandomRoIWarp("roi_tanh_polar", 32, generator=torch.Generator().manual_seed(1))
    out = augment(images, rois)
    assert out.images.shape == (6, 3, 32, 32)
    assert torch.equal(out.images, W.warp(images, out.rois, 32, "roi_tanh_polar", out.angles))
    assert not torch.equal(out.rois, rois)
    assert out.angles.abs().max() <= math.radians(15) + 1e-6
    assert out.angles.std() > 0  # per sample, not one draw for the batch


def test_augmentation_stays_within_its_ranges():
    images, rois = _batch(512)
    augment = RandomRoIWarp("roi_tanh", 8, max_shift=0.1, max_scale=0.2, max_rotation=0.5)
    out = augment(images, rois, generator=torch.Generator().manual_seed(2))
    size, new_size = rois[:, 2:] - rois[:, :2], out.rois[:, 2:] - out.rois[:, :2]
    shift = ((out.rois[:, :2] + out.rois[:, 2:]) - (rois[:, :2] + rois[:, 2:])) / 2
    scale = new_size / size
    assert (shift.abs() <= 0.1 * size + 1e-4).all() and (shift.abs() > 0.08 * size).any()
    assert torch.allclose(scale[:, 0], scale[:, 1])  # aspect ratio kept
    assert scale.min() >= 0.8 - 1e-5 and scale.max() <= 1.2 + 1e-5 and scale.max() > 1.15
    assert out.angles.abs().max() <= 0.5 + 1e-6 and out.angles.abs().max() > 0.45


def test_augmentation_is_reproducible_with_a_generator():
    images, rois = _batch()
    augment = RandomRoIWarp("roi_tanh_polar", 16)
    first = augment(images, rois, generator=torch.Generator().manual_seed(3))
    second = augment(images, rois, generator=torch.Generator().manual_seed(3))
    third = augment(images, rois, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first.images, second.images) and torch.equal(first.rois, second.rois)
    assert not torch.equal(first.rois, third.rois)


def test_augmentation_adds_to_given_angles_and_is_off_in_eval_mode():
    images, rois = _batch()
    augment = RandomRoIWarp("roi_tanh_polar", 16, max_rotation=0.0, max_shift=0.0, max_scale=0.0)
    out = augment(images, rois, torch.full((6,), 0.25), generator=torch.Generator().manual_seed(5))
    assert torch.allclose(out.angles, torch.full((6,), 0.25))
    augment = RandomRoIWarp("roi_tanh_polar", 16).eval()
    out = augment(images, rois, 0.1)
    assert torch.equal(out.rois, rois) and torch.allclose(out.angles, torch.full((6,), 0.1))


def test_augmentation_is_differentiable_and_keeps_dtype():
    images, rois = _batch(2)
    images = images.double().requires_grad_()
    out = RandomRoIWarp("roi_tanh_polar", 8)(images, rois.double(), generator=torch.Generator().manual_seed(6))
    out.images.sum().backward()
    assert images.grad is not None and out.images.dtype == torch.float64


@pytest.mark.parametrize("kwargs,message", [
    ({"max_shift": -0.1}, "max_shift"),
    ({"max_scale": 1.0}, "max_scale"),
    ({"max_rotation": float("nan")}, "max_rotation"),
])
def test_augmentation_rejects_bad_ranges(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RandomRoIWarp("roi_tanh_polar", 16, **kwargs)
