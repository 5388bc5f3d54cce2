"""Single-image NumPy reference of the warping spaces, for teaching and for testing.

It follows the formulas of :mod:`facelib.warp.functional` (read its docstring for the conventions)
written the plain way: one image, one coordinate map per output pixel, float64 throughout. It is
not fast and is not meant to be.

Sampling is done in NumPy by default. OpenCV's ``cv2.remap`` is offered (``backend='opencv'``) as
the fast way to look at results, but it is not exact: it rounds sub-pixel positions to 1/32 pixel
(``INTER_BITS = 5``), which moves a bilinear sample by up to about 1.5% of the local intensity
step, far more than the float precision the tests compare at. Hence the NumPy sampler.

Shapes: ``image`` is ``(H, W)`` or ``(H, W, C)``; ``roi`` is ``(4,)`` as ``(x1, y1, x2, y2)``;
sizes are ``(height, width)``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .checks import SPACES, check_space


def _axes(roi: np.ndarray, space: str) -> tuple[np.ndarray, float, float]:
    roi = np.asarray(roi, dtype=np.float64)
    if roi.shape != (4,) or not np.all(np.isfinite(roi)) or roi[2] <= roi[0] or roi[3] <= roi[1]:
        raise ValueError(f"roi must be finite (x1, y1, x2, y2) with x2 > x1 and y2 > y1; got {roi.tolist()}")
    centre = (roi[:2] + roi[2:]) / 2.0
    width, height = roi[2:] - roi[:2]
    if space in ("cartesian", "roi_tanh"):
        return centre, width / 2.0, height / 2.0
    return centre, width / math.sqrt(math.pi), height / math.sqrt(math.pi)


def _atanh(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log((1.0 + x) / np.maximum(1.0 - x, 1e-9)) / 2.0


def warp_maps(roi, output_size: tuple[int, int], space: str, angular_offset: float = 0.0,
              keep_aspect_ratio: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Image coordinates ``(map_x, map_y)``, each ``(H_out, W_out)``, sampled by every output pixel."""
    check_space(space)
    centre, a, b = _axes(roi, space)
    height, width = output_size
    j, i = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    if space == "roi_tanh_polar":
        rho = _atanh(j / width)
        theta = 2.0 * math.pi * i / height
        direction_x, direction_y = np.cos(theta), np.sin(theta)
    else:
        u = (2.0 * j + 1.0) / width - 1.0
        v = (2.0 * i + 1.0) / height - 1.0
        if space == "cartesian":
            qx, qy = u * a, v * b
        elif space == "roi_tanh":
            qx, qy = _atanh(u) * a, _atanh(v) * b
        else:
            radius = np.hypot(u, v)
            rho = _atanh(radius)
            direction_x = u / np.maximum(radius, 1e-9)
            direction_y = v / np.maximum(radius, 1e-9)
    if space in ("roi_tanh_polar", "roi_tanh_circular"):
        if keep_aspect_ratio:
            k = a * b / np.sqrt((b * direction_x) ** 2 + (a * direction_y) ** 2)
            qx, qy = rho * k * direction_x, rho * k * direction_y
        else:
            qx, qy = rho * a * direction_x, rho * b * direction_y
    cos, sin = math.cos(angular_offset), math.sin(angular_offset)
    return centre[0] + cos * qx - sin * qy, centre[1] + sin * qx + cos * qy


def restore_maps(roi, warped_size: tuple[int, int], image_size: tuple[int, int], space: str,
                 angular_offset: float = 0.0, keep_aspect_ratio: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Warped-image coordinates ``(map_x, map_y)``, each ``(H, W)``, of every original pixel."""
    check_space(space)
    centre, a, b = _axes(roi, space)
    height, width = warped_size
    y, x = np.meshgrid(np.arange(image_size[0], dtype=np.float64),
                       np.arange(image_size[1], dtype=np.float64), indexing="ij")
    dx, dy = x - centre[0], y - centre[1]
    cos, sin = math.cos(angular_offset), math.sin(angular_offset)
    qx, qy = cos * dx + sin * dy, -sin * dx + cos * dy
    if space in ("cartesian", "roi_tanh"):
        u, v = qx / a, qy / b
        if space == "roi_tanh":
            u, v = np.tanh(u), np.tanh(v)
        return ((u + 1.0) * width - 1.0) / 2.0, ((v + 1.0) * height - 1.0) / 2.0
    if keep_aspect_ratio:
        length = np.hypot(qx, qy)
        direction_x, direction_y = qx / np.maximum(length, 1e-300), qy / np.maximum(length, 1e-300)
        rho = length * np.sqrt((b * direction_x) ** 2 + (a * direction_y) ** 2) / (a * b)
        theta = np.arctan2(qy, qx)
    else:
        rho = np.hypot(qx / a, qy / b)
        direction_x, direction_y = qx / a / np.maximum(rho, 1e-300), qy / b / np.maximum(rho, 1e-300)
        theta = np.arctan2(qy / b, qx / a)
    if space == "roi_tanh_polar":
        return np.tanh(rho) * width, np.mod(theta, 2.0 * math.pi) * height / (2.0 * math.pi)
    u, v = np.tanh(rho) * direction_x, np.tanh(rho) * direction_y
    return ((u + 1.0) * width - 1.0) / 2.0, ((v + 1.0) * height - 1.0) / 2.0


def sample(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, interpolation: str = "bilinear",
           padding: str = "zeros", backend: str = "numpy") -> np.ndarray:
    """Read ``image`` at ``(map_x, map_y)``: pixel centres at integers, like ``grid_sample``.

    ``zeros`` padding treats every neighbour outside the image as 0; ``border`` clamps positions
    into the image. ``nearest`` rounds half to even, as ``grid_sample`` does.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C); got shape {image.shape}")
    if backend == "opencv":
        flags = cv2.INTER_LINEAR if interpolation == "bilinear" else cv2.INTER_NEAREST
        border = cv2.BORDER_CONSTANT if padding == "zeros" else cv2.BORDER_REPLICATE
        return cv2.remap(image, map_x.astype(np.float32), map_y.astype(np.float32), flags, borderMode=border,
                         borderValue=0)
    if backend != "numpy":
        raise ValueError(f"unknown backend {backend!r}; choose numpy or opencv")
    height, width = image.shape[:2]
    data = image.astype(np.float64).reshape(height, width, -1)
    if padding == "border":
        map_x, map_y = np.clip(map_x, 0, width - 1), np.clip(map_y, 0, height - 1)
    elif padding != "zeros":
        raise ValueError(f"unknown padding {padding!r}; choose zeros or border")

    def read(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
        values = data[np.clip(iy, 0, height - 1), np.clip(ix, 0, width - 1)]
        return values * inside[..., None]

    if interpolation == "nearest":
        out = read(np.rint(map_x).astype(np.int64), np.rint(map_y).astype(np.int64))
    elif interpolation == "bilinear":
        x0, y0 = np.floor(map_x), np.floor(map_y)
        fx, fy = (map_x - x0)[..., None], (map_y - y0)[..., None]
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        out = ((1 - fy) * ((1 - fx) * read(x0, y0) + fx * read(x0 + 1, y0))
               + fy * ((1 - fx) * read(x0, y0 + 1) + fx * read(x0 + 1, y0 + 1)))
    else:
        raise ValueError(f"unknown interpolation {interpolation!r}; choose bilinear or nearest")
    return out.reshape(out.shape[:2] + image.shape[2:])


def warp(image: np.ndarray, roi, output_size: tuple[int, int], space: str = "roi_tanh_polar",
         angular_offset: float = 0.0, interpolation: str = "bilinear", padding: str = "zeros",
         keep_aspect_ratio: bool = False, backend: str = "numpy") -> np.ndarray:
    """Warp one image into ``space``; returns ``(H_out, W_out[, C])`` float64 (or the input dtype with OpenCV)."""
    map_x, map_y = warp_maps(roi, output_size, space, angular_offset, keep_aspect_ratio)
    return sample(image, map_x, map_y, interpolation, padding, backend)


def restore(warped: np.ndarray, roi, image_size: tuple[int, int], space: str = "roi_tanh_polar",
            angular_offset: float = 0.0, interpolation: str = "bilinear", padding: str = "zeros",
            keep_aspect_ratio: bool = False, backend: str = "numpy") -> np.ndarray:
    """Map one warped image back to an image of ``image_size``; returns ``(H, W[, C])``."""
    warped = np.asarray(warped)
    map_x, map_y = restore_maps(roi, warped.shape[:2], image_size, space, angular_offset, keep_aspect_ratio)
    if space == "roi_tanh_polar":
        # The angle wraps: a copy of row 0 after the last row lets samples interpolate across 2 pi.
        warped = np.concatenate((warped, warped[:1]), axis=0)
    return sample(warped, map_x, map_y, interpolation, padding, backend)


__all__ = ["SPACES", "warp_maps", "restore_maps", "sample", "warp", "restore"]
