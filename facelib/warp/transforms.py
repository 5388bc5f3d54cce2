"""``nn.Module`` wrappers around :mod:`facelib.warp.functional`, and training-time augmentation."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from . import checks as C
from . import functional as W


class RoIWarp(nn.Module):
    """Warp ``(B, C, H, W)`` images into a space around ``(B, 4)`` RoIs; see :func:`functional.warp`."""

    def __init__(self, space: str, output_size: C.Size = 112, keep_aspect_ratio: bool = False,
                 interpolation: str = "bilinear", padding: str = "zeros") -> None:
        super().__init__()
        self.space = C.check_space(space)
        self.output_size = C.check_size(output_size, "output_size")
        self.keep_aspect_ratio = keep_aspect_ratio
        self.interpolation = interpolation
        self.padding = padding

    def forward(self, images: torch.Tensor, rois: torch.Tensor, angular_offsets: C.Angles = None) -> torch.Tensor:
        return W.warp(images, rois, self.output_size, self.space, angular_offsets, self.interpolation,
                      self.padding, self.keep_aspect_ratio)

    def extra_repr(self) -> str:
        return f"space={self.space!r}, output_size={self.output_size}, keep_aspect_ratio={self.keep_aspect_ratio}"


class RoIRestore(nn.Module):
    """Restore warped ``(B, C, H_w, W_w)`` images to ``image_size``; see :func:`functional.restore`."""

    def __init__(self, space: str, image_size: C.Size, keep_aspect_ratio: bool = False,
                 interpolation: str = "bilinear", padding: str = "zeros") -> None:
        super().__init__()
        self.space = C.check_space(space)
        self.image_size = C.check_size(image_size, "image_size")
        self.keep_aspect_ratio = keep_aspect_ratio
        self.interpolation = interpolation
        self.padding = padding

    def forward(self, warped: torch.Tensor, rois: torch.Tensor, angular_offsets: C.Angles = None) -> torch.Tensor:
        return W.restore(warped, rois, self.image_size, self.space, angular_offsets, self.interpolation,
                         self.padding, self.keep_aspect_ratio)

    def extra_repr(self) -> str:
        return f"space={self.space!r}, image_size={self.image_size}, keep_aspect_ratio={self.keep_aspect_ratio}"


class WarpedBatch(NamedTuple):
    """What :class:`RandomRoIWarp` returns: the warped images and the geometry it used."""

    images: torch.Tensor  # (B, C, H_out, W_out)
    rois: torch.Tensor  # (B, 4) the jittered RoIs, in the input images' pixels
    angles: torch.Tensor  # (B,) the angular offsets in radians


class RandomRoIWarp(nn.Module):
    """Random RoI jitter and rotation, then a warp: the training-time augmentation of the RTNet recipe.

    For every sample independently it draws, uniformly:

    * a shift of the RoI centre by up to ``max_shift`` of the RoI's width (x) and height (y);
    * a scale of the RoI size in ``[1 - max_scale, 1 + max_scale]`` (aspect ratio kept);
    * an angular offset in ``[-max_rotation, max_rotation]`` radians (added to any given offsets);

    and warps the images with them, all batched on the images' device. What it does to targets: the
    returned ``rois`` and ``angles`` are exactly those used, so landmarks follow with
    :func:`functional.points_to_space` and RTNet receives the RoIs it needs. In ``eval()`` mode no
    jitter is drawn.

    Args:
        space, output_size, keep_aspect_ratio, interpolation, padding: as :class:`RoIWarp`.
        max_shift: largest centre shift as a fraction of the RoI size.
        max_scale: largest relative change of the RoI size.
        max_rotation: largest rotation in radians.
        generator: default random generator; ``forward`` can take another one. Draws happen on the
            generator's device and are then moved to the images' device, so a CPU generator gives
            the same augmentation on any device.
    """

    def __init__(self, space: str, output_size: C.Size = 112, max_shift: float = 0.1, max_scale: float = 0.1,
                 max_rotation: float = math.radians(15.0), keep_aspect_ratio: bool = False,
                 interpolation: str = "bilinear", padding: str = "zeros",
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        for name, value in (("max_shift", max_shift), ("max_scale", max_scale), ("max_rotation", max_rotation)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
        if max_scale >= 1:
            raise ValueError(f"max_scale must be < 1 so that RoIs keep a positive size; got {max_scale!r}")
        self.warp = RoIWarp(space, output_size, keep_aspect_ratio, interpolation, padding)
        self.max_shift, self.max_scale, self.max_rotation = max_shift, max_scale, max_rotation
        self.generator = generator

    def sample(self, rois: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw jittered ``(B, 4)`` RoIs and ``(B,)`` angles for ``(B, 4)`` RoIs."""
        C.check_rois(rois)
        generator = generator if generator is not None else self.generator
        device = generator.device if generator is not None else rois.device
        draws = torch.rand(rois.shape[0], 4, generator=generator, device=device, dtype=torch.float64)
        draws = (2.0 * draws - 1.0).to(device=rois.device, dtype=C.compute_dtype(rois.dtype)
                                       if rois.is_floating_point() else torch.float32)
        rois = rois.to(draws.dtype)
        centre = (rois[:, :2] + rois[:, 2:]) / 2.0
        size = rois[:, 2:] - rois[:, :2]
        centre = centre + draws[:, :2] * self.max_shift * size
        size = size * (1.0 + draws[:, 2:3] * self.max_scale)
        jittered = torch.cat((centre - size / 2.0, centre + size / 2.0), dim=1)
        return jittered, draws[:, 3] * self.max_rotation

    def forward(self, images: torch.Tensor, rois: torch.Tensor, angular_offsets: C.Angles = None,
                generator: torch.Generator | None = None) -> WarpedBatch:
        C.check_images(images, "images")
        C.check_rois(rois, images.shape[0])
        base = C.as_angles(angular_offsets, images.shape[0], C.float_rois(rois, C.compute_dtype(images.dtype)))
        if self.training:
            rois, angles = self.sample(rois, generator)
            angles = angles.to(base.dtype) + base
        else:
            angles = base
        rois = rois.to(base.dtype)
        return WarpedBatch(self.warp(images, rois, angles), rois, angles)

    def extra_repr(self) -> str:
        return (f"max_shift={self.max_shift}, max_scale={self.max_scale}, "
                f"max_rotation={math.degrees(self.max_rotation):.1f} deg")
