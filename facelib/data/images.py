"""Reading images as RGB arrays and converting them to tensors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` uint8 RGB; grayscale and RGBA inputs are converted.

    Raises ``FileNotFoundError`` for a missing path and ``ValueError`` for a file OpenCV cannot decode.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not an image file")
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    _check_size(path)
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ValueError(f"cannot decode image {path} ({data.size} bytes): not an image format OpenCV reads")
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


# Larger images are refused before decoding (a 100 MP RGB photo takes 300 MB decoded).
MAX_PIXELS = 100_000_000


def _check_size(path: Path) -> None:
    """Refuse an image whose header declares more than :data:`MAX_PIXELS` pixels, without decoding it."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, with a message naming the file
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        return  # not a format Pillow reads: OpenCV decides below
    if width * height > MAX_PIXELS:
        raise ValueError(f"{path} is {width}x{height} px ({width * height / 1e6:.0f} MP), larger than the "
                         f"{MAX_PIXELS / 1e6:.0f} MP facelib reads; downscale it first")


def to_tensor(images: np.ndarray | Sequence[np.ndarray]) -> torch.Tensor:
    """``(H, W, 3)`` uint8 RGB image(s) to a ``(B, 3, H, W)`` float tensor in ``[0, 1]``."""
    batch = images if isinstance(images, np.ndarray) else np.stack(images)
    if batch.ndim == 3:
        batch = batch[None]
    if batch.ndim != 4 or batch.shape[-1] != 3:
        raise ValueError(f"expected (H, W, 3) RGB images or a (B, H, W, 3) stack; got shape {batch.shape}")
    return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float().div_(255.0)


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """A ``(3, H, W)`` or ``(1, 3, H, W)`` float tensor in ``[0, 1]`` to ``(H, W, 3)`` uint8 RGB."""
    if tensor.dim() == 4:
        if tensor.shape[0] != 1:
            raise ValueError(f"to_image takes one image; got a batch of {tensor.shape[0]}")
        tensor = tensor[0]
    if tensor.dim() != 3 or tensor.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) tensor; got shape {tuple(tensor.shape)}")
    array = tensor.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(array)


def rotate_image(image: np.ndarray, degrees: float, centre: tuple[float, float] | None = None,
                 expand: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Rotate an ``(H, W, C)`` image in-plane by ``degrees`` **counter-clockwise on screen** about ``centre``
    (``(x, y)`` pixels; default the image centre ``((W - 1) / 2, (H - 1) / 2)``), bilinear, black outside.

    Returns the rotated image (same shape and dtype; with ``expand``, on a canvas grown to hold the whole rotated
    image, so that no corner is cut off: how a photo is turned) and the ``(2, 3)`` matrix that maps a point
    ``(x, y, 1)`` of the original to the rotated image. facelib's one image rotation: the verification rotation curves
    (crops and whole photos) and the warping figures all use it. Warps take the opposite sign and radians (their
    ``angular_offsets`` turn the RoI frame *clockwise* on screen);
    :func:`facelib.warp.functional.offset_for_rotation` converts.
    """
    height, width = image.shape[:2]
    if centre is None:
        centre = ((width - 1) / 2, (height - 1) / 2)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(degrees), 1.0)
    if degrees == 0:
        return image, matrix
    if expand:
        if degrees % 90 == 0:  # exact: pixels only move
            turned = np.ascontiguousarray(np.rot90(image, int(degrees // 90) % 4))
            turns = int(degrees // 90) % 4
            w, h = width - 1, height - 1
            matrix = {1: [[0, 1, 0], [-1, 0, w]], 2: [[-1, 0, w], [0, -1, h]], 3: [[0, -1, h], [1, 0, 0]]}[turns]
            return turned, np.array(matrix, np.float64)
        corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]]) @ matrix.T
        low, high = corners.min(axis=0), corners.max(axis=0)
        size = np.ceil(high - low - 1e-6).astype(int) + 1
        matrix[:, 2] -= low
        rotated = cv2.warpAffine(np.ascontiguousarray(image), matrix, (int(size[0]), int(size[1])),
                                 flags=cv2.INTER_LINEAR, borderValue=0)
        return rotated.reshape(int(size[1]), int(size[0]), *image.shape[2:]), matrix
    rotated = cv2.warpAffine(np.ascontiguousarray(image), matrix, (width, height), flags=cv2.INTER_LINEAR,
                             borderValue=0)
    return rotated.reshape(image.shape), matrix
