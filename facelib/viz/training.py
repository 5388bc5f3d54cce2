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


def plot_lineage(records: Sequence[dict], models: Sequence[str] | None = None) -> Figure:
    """What the full recipe did: the held-out cosine and the once-read LFW accuracy of every training segment that
    led to the shipped ``models`` (``weights/lineage.jsonl`` records; default: every MobileFaceNet chain) against
    the chain's cumulative steps, segments trained on a GPU marked with a square, on a CPU with a dot."""
    names = list(models) if models is not None else list(dict.fromkeys(
        r["model"] for r in records if r["model"].startswith("mobilefacenet")))
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    cosine_ax, lfw_ax = fig.subplots(1, 2)
    for name in names:
        chain = [r for r in records if r["model"] == name]
        steps = [r["cumulative_steps"] for r in chain]
        for ax, key in ((cosine_ax, "holdout_cosine"), (lfw_ax, "lfw")):
            line = ax.plot(steps, [r[key] for r in chain], label=name, lw=1.2)[0]
            for marker, on_gpu in (("s", True), (".", False)):
                points = [(r["cumulative_steps"], r[key]) for r in chain if bool(r["gpu"]) == on_gpu]
                if points:
                    ax.plot(*zip(*points, strict=True), marker, color=line.get_color(), ms=5 if on_gpu else 4)
    cosine_ax.set_ylabel("held-out student-teacher cosine")
    lfw_ax.set_ylabel("LFW accuracy (%), read once per segment")
    lfw_ax.set_ylim(85, 100)
    for ax in (cosine_ax, lfw_ax):
        ax.set_xlabel("training steps of 64 faces, cumulative (squares: GPU segments)")
        ax.grid(alpha=0.3)
    cosine_ax.legend(fontsize=7)
    return fig
