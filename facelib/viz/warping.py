"""Figures and interactive widgets that show the warping spaces (used by notebook 01).

Every function takes an ``(H, W, 3)`` uint8 RGB image and a face box ``(x1, y1, x2, y2)`` and returns
a ``matplotlib.figure.Figure`` built without pyplot, so that widgets can redraw without global
state and tests can inspect the result.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Polygon

from ..data.images import rotate_image, to_image, to_tensor
from ..warp import functional as W
from ..warp.checks import check_size

SPACE_TITLES = {
    "cartesian": "Cartesian",
    "roi_tanh": "RoI-tanh",
    "roi_tanh_polar": "RoI-tanh-polar",
    "roi_tanh_circular": "RoI-tanh-circular",
}


def _rois(roi: Sequence[float]) -> torch.Tensor:
    return torch.tensor([list(roi)], dtype=torch.float64)


def warp_image(image: np.ndarray, roi: Sequence[float], space: str, output_size: int | tuple[int, int] = 112,
               angle: float = 0.0, keep_aspect_ratio: bool = False) -> np.ndarray:
    """Warp one RGB image with :func:`facelib.warp.warp`; returns ``(H_out, W_out, 3)`` uint8."""
    warped = W.warp(to_tensor(image).double(), _rois(roi), output_size, space, angle,
                    keep_aspect_ratio=keep_aspect_ratio)
    return to_image(warped)


def restore_image(warped: np.ndarray, roi: Sequence[float], image_size: tuple[int, int], space: str,
                  angle: float = 0.0, keep_aspect_ratio: bool = False) -> np.ndarray:
    """Restore one warped RGB image with :func:`facelib.warp.restore`; returns ``(H, W, 3)`` uint8."""
    restored = W.restore(to_tensor(warped).double(), _rois(roi), image_size, space, angle,
                         keep_aspect_ratio=keep_aspect_ratio)
    return to_image(restored)


def draw_roi(ax, roi: Sequence[float], angle: float = 0.0, color: str = "lime") -> None:
    """Draw the face box (rotated by ``angle``) and the RoI ellipse of the same area."""
    x1, y1, x2, y2 = roi
    centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    half = np.array([(x2 - x1) / 2, (y2 - y1) / 2])
    cos, sin = math.cos(angle), math.sin(angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    ax.add_patch(Polygon(corners @ rotation.T + centre, closed=True, fill=False, color=color, lw=1.2))
    axes = 2 * half * 2 / math.sqrt(math.pi)
    ax.add_patch(Ellipse(centre, axes[0], axes[1], angle=math.degrees(angle), fill=False, color=color, lw=1.0,
                         ls="--"))


def sampling_lines(roi: Sequence[float], space: str, output_size: int | tuple[int, int] = 112, angle: float = 0.0,
                   keep_aspect_ratio: bool = False, lines: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Image positions sampled along a few output rows and columns, for drawing the grid.

    Returns ``(rows, cols)``: ``(lines, W_out, 2)`` and ``(lines, H_out, 2)`` arrays of ``(x, y)`` pixels.
    """
    height, width = check_size(output_size, "output_size")
    ys = np.linspace(0, height - 1, lines)
    xs = np.linspace(0, width - 1, lines)
    row_points = np.stack(np.meshgrid(np.arange(width), ys), axis=-1).reshape(-1, 2)
    col_points = np.stack(np.meshgrid(xs, np.arange(height), indexing="ij"), axis=-1).reshape(-1, 2)
    points = torch.from_numpy(np.concatenate((row_points, col_points)).astype(np.float64))[None]
    mapped = W.points_from_space(points, _rois(roi), (height, width), space, angle, keep_aspect_ratio)[0].numpy()
    return mapped[: len(row_points)].reshape(lines, width, 2), mapped[len(row_points):].reshape(lines, height, 2)


def plot_sampling_grid(image: np.ndarray, roi: Sequence[float], space: str, output_size: int = 112,
                       angle: float = 0.0, keep_aspect_ratio: bool = False, lines: int = 9,
                       ax=None) -> Figure:
    """The original image with the positions one space samples drawn over it."""
    fig, ax = _figure_axes(ax, (4, 4))
    ax.imshow(image)
    rows, cols = sampling_lines(roi, space, output_size, angle, keep_aspect_ratio, lines)
    for line in rows:
        ax.plot(line[:, 0], line[:, 1], color="tab:orange", lw=0.8)
    for line in cols:
        ax.plot(line[:, 0], line[:, 1], color="tab:cyan", lw=0.8)
    draw_roi(ax, roi, angle)
    ax.set_xlim(0, image.shape[1] - 1)
    ax.set_ylim(image.shape[0] - 1, 0)
    ax.set_title(f"{SPACE_TITLES[space]}: rows (orange), columns (cyan)", fontsize=9)
    ax.axis("off")
    return fig


def plot_spaces(image: np.ndarray, roi: Sequence[float], output_size: int = 112, angle: float = 0.0,
                keep_aspect_ratio: bool = False) -> Figure:
    """The original with its RoI, then the face in each of the four spaces."""
    fig = Figure(figsize=(12, 2.8), layout="constrained")
    axes = fig.subplots(1, 1 + len(W.SPACES))
    axes[0].imshow(image)
    draw_roi(axes[0], roi, angle)
    axes[0].set_title("original + RoI", fontsize=9)
    for ax, space in zip(axes[1:], W.SPACES, strict=True):
        ax.imshow(warp_image(image, roi, space, output_size, angle, keep_aspect_ratio))
        ax.set_title(SPACE_TITLES[space], fontsize=9)
    for ax in axes:
        ax.axis("off")
    return fig


def round_trip_error(image: np.ndarray, roi: Sequence[float], space: str, output_size: int = 112,
                     angle: float = 0.0, keep_aspect_ratio: bool = False) -> np.ndarray:
    """Per-pixel ``|restore(warp(image)) - image|`` averaged over channels, in ``[0, 1]``: ``(H, W)``."""
    warped = W.warp(to_tensor(image).double(), _rois(roi), output_size, space, angle,
                    keep_aspect_ratio=keep_aspect_ratio)
    restored = W.restore(warped, _rois(roi), image.shape[:2], space, angle, keep_aspect_ratio=keep_aspect_ratio)
    return (restored - to_tensor(image).double()).abs().mean(dim=1)[0].numpy()


def plot_round_trip(image: np.ndarray, roi: Sequence[float], space: str, output_size: int = 112,
                    angle: float = 0.0, keep_aspect_ratio: bool = False) -> Figure:
    """Original, warped, restored and the restoration error: where the space loses information."""
    warped = warp_image(image, roi, space, output_size, angle, keep_aspect_ratio)
    restored = restore_image(warped, roi, image.shape[:2], space, angle, keep_aspect_ratio)
    error = round_trip_error(image, roi, space, output_size, angle, keep_aspect_ratio)
    fig = Figure(figsize=(12, 3), layout="constrained")
    axes = fig.subplots(1, 4)
    for ax, shown, title in zip(axes, (image, warped, restored), ("original", SPACE_TITLES[space], "restored"),
                                strict=False):
        ax.imshow(shown)
        ax.set_title(title, fontsize=9)
    shown = axes[3].imshow(error, cmap="magma", vmin=0, vmax=0.25)
    draw_roi(axes[3], roi, angle, color="white")
    axes[3].set_title("|restored - original|", fontsize=9)
    fig.colorbar(shown, ax=axes[3], fraction=0.046)
    for ax in axes:
        ax.axis("off")
    return fig


def plot_rotation_equivariance(image: np.ndarray, roi: Sequence[float], output_size: int = 112,
                               rows_shifted: int = 14) -> Figure:
    """Rotating the face about the RoI centre by ``k`` rows' angle shifts the polar image by ``k`` rows."""
    height = check_size(output_size, "output_size")[0]
    angle = 2 * math.pi * rows_shifted / height
    x1, y1, x2, y2 = roi
    # The polar rows advance clockwise on screen: a clockwise turn of the face (a negative counter-clockwise
    # rotation) by k rows' angle about the RoI centre rolls the polar image down by k rows.
    rotated, _ = rotate_image(image, -math.degrees(angle), ((x1 + x2) / 2, (y1 + y2) / 2))
    square = _square(roi)
    polar = warp_image(image, square, "roi_tanh_polar", output_size)
    polar_rotated = warp_image(rotated, square, "roi_tanh_polar", output_size)
    fig = Figure(figsize=(12, 3), layout="constrained")
    axes = fig.subplots(1, 5)
    panels = (image, rotated, polar, polar_rotated, np.roll(polar, rows_shifted, axis=0))
    titles = ("original", f"rotated {math.degrees(angle):.0f} deg", "polar(original)", "polar(rotated)",
              f"polar(original) rolled {rows_shifted} rows")
    for ax, panel, title in zip(axes, panels, titles, strict=True):
        ax.imshow(panel)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    draw_roi(axes[0], square)
    draw_roi(axes[1], square)
    return fig


def plot_augmented(batch, title_size: int = 9) -> Figure:
    """A row of augmented warps (a :class:`facelib.warp.WarpedBatch` of ``(B, 3, H, W)`` images in ``[0, 1]``),
    each titled with the rotation it got (degrees as the warps count them: clockwise on screen)."""
    count = len(batch.images)
    fig = Figure(figsize=(2 * count, 2.2), layout="constrained")
    for ax, image, angle in zip(np.atleast_1d(fig.subplots(1, count)), batch.images, batch.angles, strict=True):
        ax.imshow(image.detach().permute(1, 2, 0).clamp(0, 1).float().cpu().numpy())
        ax.set_title(f"{math.degrees(float(angle)):+.0f} deg", fontsize=title_size)
        ax.axis("off")
    return fig


def _square(roi: Sequence[float]) -> tuple[float, float, float, float]:
    """The square box of the same area and centre (rotation equivariance needs a circular RoI)."""
    x1, y1, x2, y2 = roi
    side = math.sqrt((x2 - x1) * (y2 - y1))
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2


def _figure_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a figure to PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
