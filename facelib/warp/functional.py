"""Batched, differentiable warping spaces around a face box (PyTorch).

Every function here works on a whole batch at once (no Python loop over samples), is differentiable
with respect to the images, the RoIs and the angular offsets, and runs on any device and floating
dtype (float16/bfloat16 inputs are sampled in float32 and returned in their own dtype, because a
bfloat16 sampling grid is off by up to half a pixel).

Conventions (identical to the original ``ibug.roi_tanh_warping`` implementation, so images and
models trained on them are interchangeable):

* Pixel coordinates: the centre of pixel ``(row i, column j)`` sits at ``(x, y) = (j, i)``; this is
  the convention of ``grid_sample(..., align_corners=True)`` used by the original. Internally the
  grids are normalised with the ``align_corners=False`` formula ``(2x + 1) / W - 1``, which addresses
  exactly the same positions and, unlike ``x / (W - 1)``, also works for 1-pixel images.
* A RoI is ``(x1, y1, x2, y2)`` in pixels; its centre is ``c = ((x1 + x2) / 2, (y1 + y2) / 2)``.
* ``angular_offsets`` (radians, one per sample) rotate the RoI frame about ``c``: the frame's x axis
  is ``(cos a, sin a)`` in image coordinates (y points down, so a positive angle turns clockwise on
  screen). Rotating the face by ``a`` and warping with offset ``a`` gives the upright result.
* ``cartesian``: the RoI box mapped linearly onto the output. Output column ``j`` of ``W`` samples
  the normalised coordinate ``u = (2j + 1) / W - 1`` (pixel centres), i.e. ``x = u * w / 2``.
* ``roi_tanh``: as ``cartesian`` but ``x = atanh(u) * w / 2``: the box covers the central
  ``tanh(1) = 76%`` of the output and the whole image is squeezed into the rest.
* ``roi_tanh_polar``: output column ``j`` is the radius ``tanh(rho) = j / W`` and output row ``i`` the
  angle ``theta = 2 * pi * i / H``. ``rho`` is measured in units of the RoI ellipse, which has the
  same area as the box: semi-axes ``(a, b) = (w, h) / sqrt(pi)``. The image point is
  ``c + rho * (a cos theta, b sin theta)``; with ``keep_aspect_ratio=True`` it is
  ``c + rho * k(theta) * (cos theta, sin theta)`` with ``k`` the radius of that ellipse in direction
  ``theta``, so image angles are kept.
* ``roi_tanh_circular``: the Cartesian output pixel ``(u, v)`` (pixel centres as in ``cartesian``) is
  read as a point of the unit disc: radius ``tanh(rho) = |(u, v)|`` and direction ``(u, v) / |(u, v)|``,
  then mapped as in ``roi_tanh_polar``. The output corners (``|(u, v)| >= 1``) lie outside the disc;
  as in the original they sample about 10 RoI radii away from the face.

Shapes: images ``(B, C, H, W)``, rois ``(B, 4)``, angular offsets ``(B,)``, points ``(B, N, 2)`` as
``(x, y)`` pixels. Sizes are ``(height, width)`` or a single int for a square.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .checks import (  # noqa: F401 (SPACES, INTERPOLATIONS, PADDINGS, Size, Angles, check_space: public here too)
    INTERPOLATIONS,
    PADDINGS,
    SPACES,
    Angles,
    Size,
    as_angles,
    check_images,
    check_points,
    check_rois,
    check_sampling,
    check_size,
    check_space,
    compute_dtype,
    float_rois,
)

_TWO_PI = 2.0 * math.pi


# ----------------------------------------------------------------------------------------------
# The geometry, shared by grids and point mapping. Vectors carry their (x, y) in the last dim.


class _Frame(NamedTuple):
    """Per-sample RoI frame, each tensor ``(B, 2)``: centre, axis lengths and the frame's unit axes
    ``ex = (cos a, sin a)``, ``ey = (-sin a, cos a)`` in image coordinates."""

    centre: torch.Tensor
    axes: torch.Tensor
    ex: torch.Tensor
    ey: torch.Tensor

    def view(self, *shape: int) -> _Frame:
        return _Frame(*(t.view(t.shape[0], *shape, 2) for t in self))


def _frame(rois: torch.Tensor, angles: torch.Tensor, space: str) -> _Frame:
    centre = (rois[:, :2] + rois[:, 2:]) / 2.0
    size = rois[:, 2:] - rois[:, :2]
    # Cartesian spaces stretch the half box to the unit square; polar ones use the ellipse of the
    # same area as the box.
    axes = size / 2.0 if space in ("cartesian", "roi_tanh") else size / math.sqrt(math.pi)
    cos, sin = torch.cos(angles), torch.sin(angles)
    ex = torch.stack((cos, sin), dim=-1)
    ey = torch.stack((-sin, cos), dim=-1)
    return _Frame(centre, axes, ex, ey)


def _atanh(x: torch.Tensor) -> torch.Tensor:
    # The original's formula: equals atanh inside (-1, 1) and stays finite (about 10.4 to 10.7) for
    # x >= 1, which only the corners of the circular space reach.
    return torch.log((1.0 + x) / (1.0 - x).clamp(min=1e-9)) / 2.0


def _needs_grad(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _norm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # sqrt(x^2 + y^2), with a finite gradient at the origin (the RoI centre) when one is recorded.
    # (Not torch.hypot: ONNX has no such operator.)
    squared = torch.addcmul(x * x, y, y)
    return torch.sqrt(squared + torch.finfo(x.dtype).tiny ** 0.5 if _needs_grad(x, y) else squared)


def _angle(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # atan2 in [0, 2 pi); when a gradient is recorded, a zero (not NaN) one at the origin, where the
    # angle is arbitrary.
    if _needs_grad(x, y):
        x = torch.where((x == 0) & (y == 0), torch.ones_like(x), x)
        return torch.atan2(y, x).remainder(_TWO_PI)
    return torch.atan2(y, x).remainder_(_TWO_PI)


def _ellipse_radius(a: torch.Tensor, b: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Radius of the ellipse with semi-axes (a, b) in the direction (cos, sin)."""
    return a * b / torch.sqrt((b * cos) ** 2 + (a * sin) ** 2)


def _combine(base: torch.Tensor, vec: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
    """``base + scale * vec`` (or ``base + vec``) broadcast to a full ``(..., 2)`` tensor.

    For a grid this one operation is most of the cost of building it. On the CPU a broadcast whose
    innermost dim has size 2 is about 2.5 times slower than writing x and y as two contiguous
    planes, so the result is a ``(..., 2)`` view of ``(2, ...)`` planes (``grid_sample`` reads it as
    fast). ``out=`` has no autograd, so the plain expression is used when gradients are recorded.
    """
    inputs = (base, vec) if scale is None else (base, vec, scale)
    if torch.is_grad_enabled() and any(t.requires_grad for t in inputs):
        return base + vec if scale is None else torch.addcmul(base, scale, vec)
    shape = torch.broadcast_shapes(*(t.shape for t in inputs))
    planes = base.new_empty((2, *shape[:-1]))
    for k in range(2):
        if scale is None:
            torch.add(base[..., k], vec[..., k], out=planes[k])
        else:
            torch.addcmul(base[..., k], scale[..., 0], vec[..., k], out=planes[k])
    return planes.movedim(0, -1)


def _space_to_image(space: str, u: torch.Tensor, v: torch.Tensor, frame: _Frame,
                    keep_aspect_ratio: bool) -> torch.Tensor:
    """Map normalised space coordinates ``(u, v)`` (each ``(..., 1)``) to image points ``(..., 2)``.

    ``u, v`` are the Cartesian coordinates in ``(-1, 1)`` for the Cartesian-type spaces and
    ``(tanh(rho), theta)`` for ``roi_tanh_polar``. The per-sample terms are combined before the
    per-pixel ones, so that for a grid (``u`` along W, ``v`` along H) only the last operation touches
    all ``B * H * W`` points.
    """
    centre, axes, ex, ey = frame
    a, b = axes[..., :1], axes[..., 1:]
    if space in ("cartesian", "roi_tanh"):
        if space == "roi_tanh":
            u, v = _atanh(u), _atanh(v)
        return _combine(torch.addcmul(centre, v * b, ey), (u * a) * ex)
    if space == "roi_tanh_polar":
        cos, sin = torch.cos(v), torch.sin(v)
        if keep_aspect_ratio:
            k = _ellipse_radius(a, b, cos, sin)
            direction = (k * cos) * ex + (k * sin) * ey
        else:
            direction = (a * cos) * ex + (b * sin) * ey
        return _combine(centre, direction, _atanh(u))
    radius = torch.sqrt(u * u + v * v)
    # The centre pixel of an odd-sized output has no direction; any will do, its radius is 0.
    at_centre = radius == 0
    cos = torch.where(at_centre, torch.ones_like(u), u / radius.clamp(min=1e-9))
    sin = v / radius.clamp(min=1e-9)
    rho = _atanh(radius)
    if keep_aspect_ratio:
        rho = rho * _ellipse_radius(a, b, cos, sin)
        return centre + (rho * cos) * ex + (rho * sin) * ey
    return centre + (rho * cos * a) * ex + (rho * sin * b) * ey


def _to_frame(points: torch.Tensor, frame: _Frame) -> tuple[torch.Tensor, torch.Tensor]:
    """Image points ``(..., 2)`` to RoI-frame coordinates ``(qx, qy)``, each ``(..., 1)``."""
    offset = points - frame.centre
    return (offset * frame.ex).sum(dim=-1, keepdim=True), (offset * frame.ey).sum(dim=-1, keepdim=True)


def _pixel_grid_to_frame(size: tuple[int, int], frame: _Frame) -> tuple[torch.Tensor, torch.Tensor]:
    """RoI-frame coordinates ``(qx, qy)``, each ``(B, H, W, 1)``, of every pixel of an image of ``size``.

    ``q = ((x, y) - c) . (ex, ey)`` splits into a per-column and a per-row term, so each coordinate
    costs one full-size operation. ``frame`` is viewed as ``(B, 1, 1, 2)``.
    """
    height, width = size
    like = frame.centre
    x = torch.arange(width, dtype=like.dtype, device=like.device).view(1, 1, width, 1)
    y = torch.arange(height, dtype=like.dtype, device=like.device).view(1, height, 1, 1)
    coordinates = []
    for axis in (frame.ex, frame.ey):
        row = torch.addcmul(-(frame.centre * axis).sum(dim=-1, keepdim=True), y, axis[..., 1:])
        coordinates.append(torch.addcmul(row, x, axis[..., :1]))
    return coordinates[0], coordinates[1]


def _frame_to_space(space: str, qx: torch.Tensor, qy: torch.Tensor, axes: torch.Tensor,
                    keep_aspect_ratio: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`_space_to_image` in the RoI frame: ``(qx, qy)`` to ``(u, v)``, each ``(..., 1)``."""
    a, b = axes[..., :1], axes[..., 1:]
    if space == "cartesian":
        return qx / a, qy / b
    if space == "roi_tanh":
        return torch.tanh(qx / a), torch.tanh(qy / b)
    if keep_aspect_ratio:
        # |q| divided by the ellipse's radius in q's direction, i.e. sqrt((b qx)^2 + (a qy)^2) / (a b).
        rho = _norm(b * qx, a * qy) / (a * b)
        nx, ny = qx, qy
    else:
        nx, ny = qx / a, qy / b
        rho = _norm(nx, ny)
    if space == "roi_tanh_polar":
        return torch.tanh(rho), _angle(ny, nx)
    # Circular: the point tanh(rho) along the direction of n.
    scale = torch.tanh(rho) / _norm(nx, ny).clamp(min=1e-30)
    return nx * scale, ny * scale


def _space_axes(space: str, size: tuple[int, int], like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised coordinates of the output columns ``(1, 1, W, 1)`` and rows ``(1, H, 1, 1)``."""
    height, width = size
    cols = torch.arange(width, dtype=like.dtype, device=like.device)
    rows = torch.arange(height, dtype=like.dtype, device=like.device)
    if space == "roi_tanh_polar":
        u, v = cols / width, rows * (_TWO_PI / height)
    else:
        u, v = (2.0 * cols + 1.0) / width - 1.0, (2.0 * rows + 1.0) / height - 1.0
    return u.view(1, 1, width, 1), v.view(1, height, 1, 1)


def _space_to_pixels(space: str, u: torch.Tensor, v: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    height, width = size
    if space == "roi_tanh_polar":
        return torch.cat((u * width, v * (height / _TWO_PI)), dim=-1)
    return torch.cat((((u + 1.0) * width - 1.0) / 2.0, ((v + 1.0) * height - 1.0) / 2.0), dim=-1)


def _pixels_to_space(space: str, pixels: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    height, width = size
    x, y = pixels[..., :1], pixels[..., 1:]
    if space == "roi_tanh_polar":
        return x / width, y * (_TWO_PI / height)
    return (2.0 * x + 1.0) / width - 1.0, (2.0 * y + 1.0) / height - 1.0


def _normalise(frame: _Frame, image_size: tuple[int, int]) -> _Frame:
    """Express a frame in grid_sample's normalised coordinates of an image of ``image_size``."""
    height, width = image_size
    scale = frame.centre.new_tensor([2.0 / width, 2.0 / height])
    shift = frame.centre.new_tensor([1.0 / width - 1.0, 1.0 / height - 1.0])
    return _Frame(frame.centre * scale + shift, frame.axes, frame.ex * scale, frame.ey * scale)


def pixel_grid(size: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """``(1, H, W, 2)`` the ``(x, y)`` centres of every pixel of an ``(H, W)`` image, dtype and device of ``like``."""
    height, width = size
    ys, xs = torch.meshgrid(torch.arange(height, dtype=like.dtype, device=like.device),
                            torch.arange(width, dtype=like.dtype, device=like.device), indexing="ij")
    return torch.stack((xs, ys), dim=-1).unsqueeze(0)


def _grid_from_space_pixels(space: str, u: torch.Tensor, v: torch.Tensor,
                            size: tuple[int, int]) -> torch.Tensor:
    """Normalised grid that reads a warped image of ``size`` at space coordinates ``(u, v)``.

    For the Cartesian-type spaces ``(u, v)`` already are grid_sample's normalised coordinates. A
    polar image is read with one extra row appended (a copy of row 0), so that angles between the
    last row and 2 pi interpolate across the seam.
    """
    if space == "roi_tanh_polar":
        height, width = size
        # column W u of W, row H v / (2 pi) of H + 1, each as (2 x + 1) / n - 1
        u = 2.0 * u + (1.0 / width - 1.0)
        v = v * (2.0 * height / (_TWO_PI * (height + 1))) + (1.0 / (height + 1) - 1.0)
    return torch.cat((u, v), dim=-1)


def _wrap_rows(warped: torch.Tensor) -> torch.Tensor:
    return torch.cat((warped, warped[..., :1, :]), dim=-2)


# ----------------------------------------------------------------------------------------------
# Grids


def _warp_grid(rois: torch.Tensor, angles: Angles, image_size: tuple[int, int], output_size: tuple[int, int],
               space: str, keep_aspect_ratio: bool) -> torch.Tensor:
    frame = _frame(rois, as_angles(angles, rois.shape[0], rois), space)
    u, v = _space_axes(space, output_size, rois)
    return _space_to_image(space, u, v, _normalise(frame, image_size).view(1, 1), keep_aspect_ratio)


def _restore_grid(rois: torch.Tensor, angles: Angles, warped_size: tuple[int, int], image_size: tuple[int, int],
                  space: str, keep_aspect_ratio: bool) -> torch.Tensor:
    frame = _frame(rois, as_angles(angles, rois.shape[0], rois), space).view(1, 1)
    qx, qy = _pixel_grid_to_frame(image_size, frame)
    u, v = _frame_to_space(space, qx, qy, frame.axes, keep_aspect_ratio)
    return _grid_from_space_pixels(space, u, v, warped_size)


def warp_grid(rois: torch.Tensor, image_size: Size, output_size: Size, space: str,
              angular_offsets: Angles = None, keep_aspect_ratio: bool = False) -> torch.Tensor:
    """Sampling grid that warps images of ``image_size`` into ``space``.

    Args:
        rois: ``(B, 4)`` face boxes ``(x1, y1, x2, y2)`` in pixels.
        image_size: ``(H, W)`` of the source images.
        output_size: ``(H_out, W_out)`` of the warped images.
        space: one of :data:`SPACES`.
        angular_offsets: rotation of each RoI frame in radians, a float or ``(B,)``.
        keep_aspect_ratio: polar and circular spaces only; see the module docstring.

    Returns:
        ``(B, H_out, W_out, 2)`` grid for ``grid_sample(..., align_corners=False)``.
    """
    check_space(space)
    check_rois(rois)
    return _warp_grid(float_rois(rois), angular_offsets, check_size(image_size, "image_size"),
                      check_size(output_size, "output_size"), space, keep_aspect_ratio)


def restore_grid(rois: torch.Tensor, warped_size: Size, image_size: Size, space: str,
                 angular_offsets: Angles = None, keep_aspect_ratio: bool = False) -> torch.Tensor:
    """Sampling grid that restores warped images of ``warped_size`` to images of ``image_size``.

    For ``roi_tanh_polar`` the grid addresses the warped image with a copy of its first row appended
    (:func:`restore` does this for you).

    Returns:
        ``(B, H, W, 2)`` grid for ``grid_sample(..., align_corners=False)``.
    """
    check_space(space)
    check_rois(rois)
    return _restore_grid(float_rois(rois), angular_offsets, check_size(warped_size, "warped_size"),
                         check_size(image_size, "image_size"), space, keep_aspect_ratio)


# ----------------------------------------------------------------------------------------------
# Warp, restore and conversion


def _sample(images: torch.Tensor, grid: torch.Tensor, interpolation: str, padding: str) -> torch.Tensor:
    out = F.grid_sample(images.to(grid.dtype), grid, mode=interpolation, padding_mode=padding, align_corners=False)
    return out.to(images.dtype)


def offset_for_rotation(degrees: float) -> float:
    """The angular offset (radians, clockwise on screen: the warps' convention) that undoes a face rotated by
    ``degrees`` counter-clockwise on screen (the convention of :func:`facelib.data.images.rotate_image` and of
    the verification rotation curves): ``-radians(degrees)``.

    Example:
        >>> round(offset_for_rotation(90.0), 4)
        -1.5708
    """
    return -math.radians(degrees)


def _checked_call(images: torch.Tensor, name: str, rois: torch.Tensor, space: str, interpolation: str,
                  padding: str) -> torch.Tensor:
    """Validate the arguments of a sampling call; returns the RoIs in the images' compute dtype."""
    check_images(images, name)
    check_space(space)
    check_rois(rois, images.shape[0])
    check_sampling(interpolation, padding)
    return float_rois(rois, compute_dtype(images.dtype))


def warp(images: torch.Tensor, rois: torch.Tensor, output_size: Size, space: str = "roi_tanh_polar",
         angular_offsets: Angles = None, interpolation: str = "bilinear", padding: str = "zeros",
         keep_aspect_ratio: bool = False) -> torch.Tensor:
    """Warp images into a space around their face boxes.

    Args:
        images: ``(B, C, H, W)`` floating-point images.
        rois: ``(B, 4)`` face boxes ``(x1, y1, x2, y2)`` in pixels.
        output_size: ``(H_out, W_out)`` or an int; independent of the input size.
        space: one of :data:`SPACES`.
        angular_offsets: per-sample rotation of the RoI frame in radians, a float or ``(B,)``.
        interpolation: ``bilinear`` or ``nearest``.
        padding: ``zeros`` or ``border`` for samples outside the image.
        keep_aspect_ratio: polar and circular spaces only (ignored by the Cartesian ones).

    Returns:
        ``(B, C, H_out, W_out)`` warped images, same dtype as ``images``.

    Example:
        >>> images = torch.rand(2, 3, 250, 250)
        >>> rois = torch.tensor([[78.0, 78.0, 172.0, 188.0]]).repeat(2, 1)
        >>> warp(images, rois, 112, "roi_tanh_polar").shape
        torch.Size([2, 3, 112, 112])
    """
    rois = _checked_call(images, "images", rois, space, interpolation, padding)
    grid = _warp_grid(rois, angular_offsets, tuple(images.shape[-2:]), check_size(output_size, "output_size"), space,
                      keep_aspect_ratio)
    return _sample(images, grid, interpolation, padding)


def restore(warped: torch.Tensor, rois: torch.Tensor, image_size: Size, space: str = "roi_tanh_polar",
            angular_offsets: Angles = None, interpolation: str = "bilinear", padding: str = "zeros",
            keep_aspect_ratio: bool = False) -> torch.Tensor:
    """Inverse of :func:`warp`: map warped images back to the original image frame.

    Args:
        warped: ``(B, C, H_w, W_w)`` images in ``space``.
        rois, angular_offsets, keep_aspect_ratio: as given to :func:`warp`.
        image_size: ``(H, W)`` of the restored images.

    Returns:
        ``(B, C, H, W)`` images. Pixels far from the RoI come back blurred (the space samples them
        sparsely); the RoI itself comes back at close to full resolution.

    Example:
        >>> rois = torch.tensor([[78.0, 78.0, 172.0, 188.0]])
        >>> polar = warp(torch.rand(1, 3, 250, 250), rois, 112, "roi_tanh_polar")
        >>> restore(polar, rois, (250, 250), "roi_tanh_polar").shape
        torch.Size([1, 3, 250, 250])
    """
    rois = _checked_call(warped, "warped", rois, space, interpolation, padding)
    grid = _restore_grid(rois, angular_offsets, tuple(warped.shape[-2:]), check_size(image_size, "image_size"), space,
                         keep_aspect_ratio)
    source = _wrap_rows(warped) if space == "roi_tanh_polar" else warped
    return _sample(source, grid, interpolation, padding)


def convert_space(features: torch.Tensor, rois: torch.Tensor, source: str, target: str,
                  output_size: Size | None = None, interpolation: str = "bilinear", padding: str = "zeros",
                  keep_aspect_ratio: bool = False) -> torch.Tensor:
    """Resample images or feature maps from one warping space to another, without the original.

    Both spaces share the RoI and its rotation, so no angular offset is needed. This is what the
    RTNet hybrid blocks do to their feature maps.

    Args:
        features: ``(B, C, H, W)`` maps in ``source`` space.
        rois: ``(B, 4)`` the RoIs the maps were warped with (in the original image's pixels).
        output_size: size of the result; defaults to the input's.
        keep_aspect_ratio: applies to whichever side is polar or circular.

    Returns:
        ``(B, C, H_out, W_out)`` maps in ``target`` space.
    """
    check_images(features, "features")
    check_space(source)
    check_space(target)
    check_rois(rois, features.shape[0])
    check_sampling(interpolation, padding)
    source_size = tuple(features.shape[-2:])
    target_size = check_size(source_size if output_size is None else output_size, "output_size")
    boxes = float_rois(rois, compute_dtype(features.dtype))
    zeros = boxes.new_zeros(boxes.shape[0])
    origin = boxes.new_zeros(boxes.shape[0], 2)
    # Both frames are centred at 0 and unrotated: only the axis lengths of the two spaces differ.
    target_frame = _frame(boxes, zeros, target)._replace(centre=origin).view(1, 1)
    source_frame = _frame(boxes, zeros, source)._replace(centre=origin).view(1, 1)
    u, v = _space_axes(target, target_size, boxes)
    offsets = _space_to_image(target, u, v, target_frame, keep_aspect_ratio)
    su, sv = _frame_to_space(source, offsets[..., :1], offsets[..., 1:], source_frame.axes, keep_aspect_ratio)
    grid = _grid_from_space_pixels(source, su, sv, source_size)
    wrapped = _wrap_rows(features) if source == "roi_tanh_polar" else features
    return _sample(wrapped, grid, interpolation, padding)


def roi_tanh_polar_to_roi_tanh(features: torch.Tensor, rois: torch.Tensor, output_size: Size | None = None,
                               interpolation: str = "bilinear", padding: str = "zeros",
                               keep_aspect_ratio: bool = False) -> torch.Tensor:
    """``convert_space(features, rois, 'roi_tanh_polar', 'roi_tanh', ...)``; shapes as there."""
    return convert_space(features, rois, "roi_tanh_polar", "roi_tanh", output_size, interpolation, padding,
                         keep_aspect_ratio)


def roi_tanh_to_roi_tanh_polar(features: torch.Tensor, rois: torch.Tensor, output_size: Size | None = None,
                               interpolation: str = "bilinear", padding: str = "zeros",
                               keep_aspect_ratio: bool = False) -> torch.Tensor:
    """``convert_space(features, rois, 'roi_tanh', 'roi_tanh_polar', ...)``; shapes as there."""
    return convert_space(features, rois, "roi_tanh", "roi_tanh_polar", output_size, interpolation, padding,
                         keep_aspect_ratio)


# ----------------------------------------------------------------------------------------------
# Points


def points_to_space(points: torch.Tensor, rois: torch.Tensor, warped_size: Size, space: str,
                    angular_offsets: Angles = None, keep_aspect_ratio: bool = False) -> torch.Tensor:
    """Map image points (e.g. landmarks) to pixel coordinates of the warped image.

    Args:
        points: ``(B, N, 2)`` image points ``(x, y)`` in pixels.
        rois, angular_offsets, keep_aspect_ratio: as given to :func:`warp`.
        warped_size: ``(H_out, W_out)`` of the warped image.

    Returns:
        ``(B, N, 2)`` ``(x, y)`` pixel coordinates in the warped image. For ``roi_tanh_polar`` the
        row is in ``[0, H_out)`` (the angle wraps).

    Example:
        >>> rois = torch.tensor([[78.0, 78.0, 172.0, 188.0]])
        >>> points_to_space(torch.tensor([[[125.0, 133.0]]]), rois, 112, "roi_tanh_polar")  # the RoI centre
        tensor([[[0., 0.]]])
        >>> points_to_space(torch.tensor([[[172.0, 133.0]]]), rois, 112, "cartesian")  # its right edge
        tensor([[[111.5000,  55.5000]]])
    """
    check_space(space)
    check_rois(rois)
    check_points(points, rois.shape[0])
    warped_size = check_size(warped_size, "warped_size")
    rois = float_rois(rois, compute_dtype(points.dtype) if points.is_floating_point() else None)
    points = points.to(rois.dtype)
    frame = _frame(rois, as_angles(angular_offsets, rois.shape[0], rois), space).view(1)
    u, v = _frame_to_space(space, *_to_frame(points, frame), frame.axes, keep_aspect_ratio)
    return _space_to_pixels(space, u, v, warped_size)


def points_from_space(points: torch.Tensor, rois: torch.Tensor, warped_size: Size, space: str,
                      angular_offsets: Angles = None, keep_aspect_ratio: bool = False) -> torch.Tensor:
    """Inverse of :func:`points_to_space`: warped-image pixels ``(B, N, 2)`` to image pixels ``(B, N, 2)``."""
    check_space(space)
    check_rois(rois)
    check_points(points, rois.shape[0])
    warped_size = check_size(warped_size, "warped_size")
    rois = float_rois(rois, compute_dtype(points.dtype) if points.is_floating_point() else None)
    points = points.to(rois.dtype)
    frame = _frame(rois, as_angles(angular_offsets, rois.shape[0], rois), space).view(1)
    u, v = _pixels_to_space(space, points, warped_size)
    return _space_to_image(space, u, v, frame, keep_aspect_ratio)
