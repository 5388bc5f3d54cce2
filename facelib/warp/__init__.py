"""Warping spaces around a face box: ``cartesian``, ``roi_tanh``, ``roi_tanh_polar``, ``roi_tanh_circular``.

* :mod:`facelib.warp.functional`: batched, differentiable PyTorch functions (warp, restore, grids,
  space conversion, point mapping). Its docstring states the sampling conventions.
* :mod:`facelib.warp.transforms`: ``nn.Module`` wrappers and the training augmentation.
* :mod:`facelib.warp.reference`: a single-image NumPy reference of the same formulas.
"""

from .functional import (
    SPACES,
    convert_space,
    points_from_space,
    points_to_space,
    restore,
    restore_grid,
    roi_tanh_polar_to_roi_tanh,
    roi_tanh_to_roi_tanh_polar,
    warp,
    warp_grid,
)
from .transforms import RandomRoIWarp, RoIRestore, RoIWarp, WarpedBatch

__all__ = [
    "SPACES",
    "RandomRoIWarp",
    "RoIRestore",
    "RoIWarp",
    "WarpedBatch",
    "convert_space",
    "points_from_space",
    "points_to_space",
    "restore",
    "restore_grid",
    "roi_tanh_polar_to_roi_tanh",
    "roi_tanh_to_roi_tanh_polar",
    "warp",
    "warp_grid",
]
