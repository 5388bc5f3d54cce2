"""Figures for notebook 02: margin-loss target logits and training curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from ..losses import CombinedMarginLoss


def plot_target_logits(losses: Mapping[str, CombinedMarginLoss]) -> Figure:
    """The target logit ``psi(theta)`` (before the scale ``s``) of each loss against the angle ``theta``."""
    fig = Figure(figsize=(5.5, 3.8), layout="constrained")
    ax = fig.subplots()
    theta = np.linspace(0, np.pi, 361)
    ax.plot(np.degrees(theta), np.cos(theta), color="black", ls=":", label="softmax: cos(theta)")
    for label, loss in losses.items():
        ax.plot(np.degrees(theta), loss.psi(torch.from_numpy(np.cos(theta))).numpy(), label=label)
    ax.set_xlabel("angle theta between embedding and its class centre (degrees)")
    ax.set_ylabel("target logit / s")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def plot_history(history: Sequence[dict]) -> Figure:
    """Training loss, and the checks where measured (LFW accuracy, held-out student-teacher cosine), against
    the step."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    steps = [h["step"] for h in history if h.get("loss") is not None]
    left.plot(steps, [h["loss"] for h in history if h.get("loss") is not None])
    left.set_xlabel("step")
    left.set_ylabel("training loss")
    left.grid(alpha=0.3)
    for key, label in (("lfw_accuracy", "LFW accuracy (subset)"), ("holdout_teacher_cosine", "held-out cosine")):
        checks = [(h["step"], h[key]) for h in history if h.get(key) is not None]
        if checks:
            right.plot(*zip(*checks, strict=True), marker="o", label=label)
    right.set_xlabel("step")
    right.set_ylabel("check")
    right.legend()
    right.grid(alpha=0.3)
    return fig
