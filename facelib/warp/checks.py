"""Input checks shared by the warping code (:mod:`.functional`, :mod:`.transforms`, :mod:`.reference`): each
validates one argument and raises a ``ValueError`` that names it and the offending value, so that bad input
never surfaces as a traceback from inside ``grid_sample``. Also the names of the spaces and sampling modes,
and the argument types ``Size`` and ``Angles``."""

from __future__ import annotations

from collections.abc import Sequence

import torch

SPACES = ("cartesian", "roi_tanh", "roi_tanh_polar", "roi_tanh_circular")
INTERPOLATIONS = ("bilinear", "nearest")
PADDINGS = ("zeros", "border")

Size = int | Sequence[int]
Angles = float | torch.Tensor | None


def check_space(space: str) -> str:
    """Return ``space`` if it names a warping space, else raise a ``ValueError`` listing them."""
    if space not in SPACES:
        raise ValueError(f"unknown warping space {space!r}; choose one of {', '.join(SPACES)}")
    return space


def check_size(size: Size, name: str) -> tuple[int, int]:
    """``(height, width)`` of a size given as an int (square) or a pair of positive whole numbers."""
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    try:
        height, width = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a (height, width) pair; got {size!r}") from None
    if height < 1 or width < 1 or (height, width) != tuple(size):
        raise ValueError(f"{name} must be positive whole numbers (height, width); got {tuple(size)!r}")
    return height, width


def check_images(images: torch.Tensor, name: str) -> None:
    """``images`` must be a floating-point ``(B, C, H, W)`` tensor."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape (B, C, H, W); got {type(images).__name__}")
    if images.dim() != 4:
        raise ValueError(f"{name} must be a 4-D tensor (B, C, H, W); got shape {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor (convert with .float()); got {images.dtype}")


def check_rois(rois: torch.Tensor, batch: int | None = None) -> None:
    """``rois`` must be ``(B, 4)`` finite, non-empty ``(x1, y1, x2, y2)`` boxes (``batch`` of them if given)."""
    if not isinstance(rois, torch.Tensor):
        raise ValueError(f"rois must be a torch.Tensor of shape (B, 4); got {type(rois).__name__}")
    if rois.dim() != 2 or rois.shape[1] != 4:
        raise ValueError(f"rois must have shape (B, 4) as (x1, y1, x2, y2); got {tuple(rois.shape)}")
    if batch is not None and rois.shape[0] != batch:
        raise ValueError(f"batch sizes differ: {batch} images but {rois.shape[0]} rois")
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return  # value checks need data-dependent branches, which export and compile cannot follow
    if not torch.isfinite(rois).all():
        bad = (~torch.isfinite(rois)).any(dim=1).nonzero()[0, 0].item()
        raise ValueError(f"rois[{bad}] is not finite: {rois[bad].tolist()}")
    sizes = rois[:, 2:] - rois[:, :2]
    if (sizes <= 0).any():
        bad = (sizes <= 0).any(dim=1).nonzero()[0, 0].item()
        x1, y1, x2, y2 = rois[bad].tolist()
        raise ValueError(f"rois[{bad}] = ({x1:g}, {y1:g}, {x2:g}, {y2:g}) is empty: need x2 > x1 and y2 > y1")


def as_angles(angular_offsets: Angles, batch: int, like: torch.Tensor) -> torch.Tensor:
    """Angular offsets (None, a float, a scalar or a ``(B,)`` tensor) as a ``(B,)`` tensor like ``like``."""
    if angular_offsets is None:
        return like.new_zeros(batch)
    if not isinstance(angular_offsets, torch.Tensor):
        return like.new_full((batch,), float(angular_offsets))
    angles = angular_offsets.to(device=like.device, dtype=like.dtype)
    if angles.dim() == 0:
        return angles.expand(batch)
    if angles.shape != (batch,):
        raise ValueError(f"angular_offsets must be a float or a tensor of shape (B,) = ({batch},); "
                         f"got {tuple(angles.shape)}")
    return angles


def check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    """``value`` must be one of ``choices``."""
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype grids are computed in: float32 for float16/bfloat16 (a bfloat16 grid is off by up to half a
    pixel), else ``dtype``."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def float_rois(rois: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``rois`` in ``dtype`` (default: their compute dtype, or the default dtype for integer boxes)."""
    if dtype is None:
        dtype = compute_dtype(rois.dtype) if rois.is_floating_point() else torch.get_default_dtype()
    return rois.to(dtype)


def check_sampling(interpolation: str, padding: str) -> None:
    """``interpolation`` and ``padding`` must be modes :func:`torch.nn.functional.grid_sample` is used with."""
    check_choice(interpolation, INTERPOLATIONS, "interpolation")
    check_choice(padding, PADDINGS, "padding")


def check_points(points: torch.Tensor, batch: int) -> None:
    """``points`` must be ``(B, N, 2)`` ``(x, y)`` pixels, one set per RoI."""
    if not isinstance(points, torch.Tensor) or points.dim() != 3 or points.shape[-1] != 2:
        shape = tuple(points.shape) if isinstance(points, torch.Tensor) else type(points).__name__
        raise ValueError(f"points must be a tensor of shape (B, N, 2) as (x, y) pixels; got {shape}")
    if points.shape[0] != batch:
        raise ValueError(f"batch sizes differ: {points.shape[0]} point sets but {batch} rois")
