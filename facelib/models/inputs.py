"""The model input contract, in one place: how an aligned 112x112 face becomes a model's input.

Every model takes an aligned face (ArcFace template, ``(B, 3, 112, 112)`` float in ``[0, 1]``) warped
into its space around the space's RoI, scaled by its :class:`InputSpec` (``(x - mean) / std``); RTNet
also takes the RoIs. Training calls :func:`model_input` with its augmentation (RoI jitter, rotation),
inference without, so that the two cannot drift apart.

RoIs (``(x1, y1, x2, y2)`` pixels of the aligned crop):

* the tanh spaces warp around :data:`ALIGNED_ROI`, the central 80% of the crop (ibug.face_embedding's
  ``roi_ratio=0.8``, rounded to whole pixels as there), keeping its aspect ratio;
* ``cartesian`` warps around :data:`CARTESIAN_ROI`, the whole crop, for which the Cartesian warp is the
  identity: inference skips it, training jitters and rotates that RoI exactly as the other spaces'.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..warp import SPACES, RandomRoIWarp, restore, warp

ALIGNED_ROI = (11.0, 11.0, 100.0, 100.0)
CARTESIAN_ROI = (-0.5, -0.5, 111.5, 111.5)  # pixel centres 0..111: the identity warp at 112 x 112
INPUT_SIZE = 112


@dataclass(frozen=True)
class InputSpec:
    """What a model takes: size, scaling, whether ``forward`` takes ``(x, rois)``, the spaces it works in."""

    size: int = INPUT_SIZE
    mean: float = 0.5
    std: float = 0.5
    needs_rois: bool = False
    spaces: tuple[str, ...] = SPACES
    keep_aspect_ratio: bool = True


def space_roi(space: str) -> tuple[float, float, float, float]:
    """The RoI of the aligned crop that ``space`` warps around."""
    if space not in SPACES:
        raise ValueError(f"unknown warping space {space!r}; choose one of {', '.join(SPACES)}")
    return CARTESIAN_ROI if space == "cartesian" else ALIGNED_ROI


def _check_faces(faces: torch.Tensor) -> None:
    if faces.dim() != 4 or faces.shape[1] != 3:
        raise ValueError(f"faces must be (B, 3, H, W); got shape {tuple(faces.shape)}")


def model_input(faces: torch.Tensor, spec: InputSpec, space: str, augment: RandomRoIWarp | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Aligned faces ``(B, 3, 112, 112)`` float in ``[0, 1]`` -> the model's input ``(B, 3, S, S)`` and, for
    models that take them, the ``(B, 4)`` RoIs used (else None).

    ``augment``: a :class:`facelib.warp.RandomRoIWarp` in ``space`` (training: jitter and rotation drawn
    from ``generator``); None for inference.
    """
    if space not in spec.spaces:
        raise ValueError(f"this model works in {', '.join(spec.spaces)}; got space {space!r}")
    _check_faces(faces)
    rois = torch.tensor([space_roi(space)], dtype=torch.float32, device=faces.device).expand(len(faces), 4)
    if augment is not None:
        if augment.warp.space != space:
            raise ValueError(f"the augmentation warps into {augment.warp.space!r}, the model takes {space!r}")
        faces, rois, _ = augment(faces, rois, generator=generator)
    elif space != "cartesian" or faces.shape[-2:] != (spec.size, spec.size):
        faces = warp(faces, rois, spec.size, space, keep_aspect_ratio=spec.keep_aspect_ratio)
    x = (faces - spec.mean) / spec.std
    return x, (rois.to(x.dtype) if spec.needs_rois else None)


def round_trip(faces: torch.Tensor, spec: InputSpec, space: str) -> torch.Tensor:
    """Aligned faces ``(B, 3, H, W)`` float in ``[0, 1]`` as a model of ``spec`` sees them in ``space``, brought
    back: warped around the space's RoI at the model's input size, exactly as :func:`model_input` does at
    inference, then restored to ``(B, 3, H, W)``. What a Cartesian model would lose on these faces is what the
    space's input discards (resolution off the RoI, where a tanh space samples sparsely); for ``cartesian`` at the
    input size the round trip is the identity."""
    roi = space_roi(space)  # an unknown space fails here
    _check_faces(faces)
    if space == "cartesian" and faces.shape[-2:] == (spec.size, spec.size):
        return faces
    rois = torch.tensor([roi], dtype=faces.dtype, device=faces.device).expand(len(faces), 4)
    warped = warp(faces, rois, spec.size, space, keep_aspect_ratio=spec.keep_aspect_ratio)
    return restore(warped, rois, tuple(faces.shape[-2:]), space, keep_aspect_ratio=spec.keep_aspect_ratio)
