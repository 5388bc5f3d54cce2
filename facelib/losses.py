"""Margin losses for face embeddings: ArcFace, CosFace and the combined margin.

For an embedding ``x`` and class centres ``W`` the classifier's logits are ``s * cos(theta_j)`` with
``cos(theta_j) = <x/|x|, W_j/|W_j|>`` (:class:`CosineClassifier`). The combined margin replaces the
target class's logit by ``s * psi(theta)``, ``psi(theta) = cos(m1 * theta + m2) - m3``:

* ArcFace (Deng et al., CVPR 2019): ``m1 = 1, m2 = m, m3 = 0`` (additive angular margin);
* CosFace (Wang et al., CVPR 2018): ``m1 = 1, m2 = 0, m3 = m`` (additive cosine margin);
* SphereFace-like multiplicative margins: ``m1 > 1``.

Numerical safety: the margin is computed in float32 even under fp16/bf16 autocast, ``theta`` comes
from ``acos`` of the cosine clamped to ``[-1 + 1e-7, 1 - 1e-7]`` (so cosines at or beyond +-1 give
finite gradients), and when ``m1 * theta + m2`` passes ``pi`` — where ``cos`` would start to rise again
and reward a wrong prediction — ``psi`` continues as ``cos(theta) - cos(theta_pi) - 1 - m3``, which is
continuous at ``theta_pi = (pi - m2) / m1`` and keeps decreasing in ``theta``. (insightface uses
``cos(theta) - m sin(m)`` there, which is not continuous.) Without an angular margin (``m1 = 1``,
``m2 = 0``) no ``acos`` is taken at all.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_EPS = 1e-7


class CosineClassifier(nn.Module):
    """Cosines between L2-normalised embeddings ``(B, D)`` and class centres: ``(B, num_classes)``."""

    def __init__(self, embedding_size: int, num_classes: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_size))
        nn.init.normal_(self.weight, std=0.01)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return F.linear(F.normalize(embeddings, dim=1), F.normalize(self.weight, dim=1))


class CombinedMarginLoss(nn.Module):
    """Cross-entropy on ``s * cos(theta)`` logits with the margin ``cos(m1 theta + m2) - m3`` on the target.

    ``forward(cosine, labels)``: ``cosine`` is ``(B, C)`` in ``[-1, 1]``, ``labels`` ``(B,)`` class
    indices. Rows labelled ``-1`` carry no target: :meth:`logits` leaves them without margin (Partial FC
    uses that for samples whose class lives on another shard, and computes their softmax itself), and
    :meth:`forward` leaves them out of the mean: it returns the mean loss over the labelled rows, and a
    batch without any is refused (its mean would be NaN).
    """

    def __init__(self, s: float = 64.0, m1: float = 1.0, m2: float = 0.5, m3: float = 0.0) -> None:
        super().__init__()
        if not s > 0:
            raise ValueError(f"scale s must be positive; got {s}")
        if not m1 >= 1.0 or m2 < 0 or m3 < 0:
            raise ValueError(f"margins need m1 >= 1, m2 >= 0, m3 >= 0; got m1={m1}, m2={m2}, m3={m3}")
        if m2 >= math.pi:
            raise ValueError(f"m2 must be below pi; got {m2}")
        self.s, self.m1, self.m2, self.m3 = float(s), float(m1), float(m2), float(m3)
        self.theta_pi = (math.pi - self.m2) / self.m1  # where m1 * theta + m2 reaches pi

    def psi(self, cosine: torch.Tensor) -> torch.Tensor:
        """The target logit before scaling, ``psi(theta)``, for cosines of any shape (float32 out)."""
        cosine = cosine.float()
        if self.m1 == 1.0 and self.m2 == 0.0:
            return cosine - self.m3
        theta = torch.acos(cosine.clamp(-1.0 + _EPS, 1.0 - _EPS))
        margin = torch.cos(self.m1 * theta + self.m2) - self.m3
        beyond = cosine - math.cos(self.theta_pi) - 1.0 - self.m3
        return torch.where(theta <= self.theta_pi, margin, beyond)

    def logits(self, cosine: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``(B, C)`` scaled logits with the margin applied at each row's label."""
        if cosine.dim() != 2:
            raise ValueError(f"cosine must be (B, C); got shape {tuple(cosine.shape)}")
        if labels.shape != cosine.shape[:1]:
            raise ValueError(f"labels must be (B,) = ({cosine.shape[0]},); got {tuple(labels.shape)}")
        if labels.numel() and (labels.max() >= cosine.shape[1] or labels.min() < -1):
            raise ValueError(f"labels must be in [-1, {cosine.shape[1] - 1}]; got {labels.min()}..{labels.max()}")
        with torch.autocast(device_type=cosine.device.type, enabled=False):
            logits = cosine.float().clamp(-1.0, 1.0)
            rows = torch.nonzero(labels >= 0).squeeze(1)
            if rows.numel():
                columns = labels[rows]
                target = self.psi(logits[rows, columns])
                logits = logits.index_put((rows, columns), target)
            return logits * self.s

    def forward(self, cosine: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if labels.numel() and not (labels >= 0).any():
            raise ValueError("every row is labelled -1 (no target): the margin loss needs labelled rows")
        logits = self.logits(cosine, labels)
        with torch.autocast(device_type=cosine.device.type, enabled=False):
            return F.cross_entropy(logits, labels.clamp(min=0), reduction="none")[labels >= 0].mean()

    def extra_repr(self) -> str:
        return f"s={self.s}, m1={self.m1}, m2={self.m2}, m3={self.m3}"


class ArcFaceLoss(CombinedMarginLoss):
    """ArcFace: ``s * cos(theta + m)`` on the target (defaults of the paper: s=64, m=0.5)."""

    def __init__(self, s: float = 64.0, m: float = 0.5) -> None:
        super().__init__(s=s, m1=1.0, m2=m, m3=0.0)


class CosFaceLoss(CombinedMarginLoss):
    """CosFace: ``s * (cos(theta) - m)`` on the target (defaults: s=64, m=0.4)."""

    def __init__(self, s: float = 64.0, m: float = 0.4) -> None:
        super().__init__(s=s, m1=1.0, m2=0.0, m3=m)


def create_loss(name: str, **kwargs) -> CombinedMarginLoss:
    """``arcface``, ``cosface`` or ``combined`` (keyword arguments as the classes take)."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[name](**kwargs)


LOSSES = {"arcface": ArcFaceLoss, "cosface": CosFaceLoss, "combined": CombinedMarginLoss}
