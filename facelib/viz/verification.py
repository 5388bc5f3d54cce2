"""Figures for verification results: ROC curves, distance histograms, accuracy against rotation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..evaluation import VerificationResult


def plot_roc(results: Sequence[VerificationResult], labels: Sequence[str] | None = None, ax=None) -> Figure:
    """ROC curves (TAR against FAR, log FAR axis) of several results."""
    fig, ax = _axes(ax, (5, 4))
    for k, result in enumerate(results):
        label = labels[k] if labels else result.name
        positive = result.roc_fpr > 0
        ax.plot(result.roc_fpr[positive], result.roc_tpr[positive],
                label=f"{label} (acc {100 * result.accuracy:.1f}%, AUC {result.auc:.3f})")
    ax.set_xscale("log")
    ax.set_xlabel("false accept rate (FAR)")
    ax.set_ylabel("true accept rate (TAR)")
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def rates_at(distances: np.ndarray, same: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, TAR and FAR of the decision ``distance < threshold``."""
    predicted = distances < threshold
    same = np.asarray(same, bool)
    return {"accuracy": float((predicted == same).mean()),
            "tar": float(predicted[same].mean()) if same.any() else 0.0,
            "far": float(predicted[~same].mean()) if (~same).any() else 0.0}


def plot_distances(distances: np.ndarray, same: np.ndarray, threshold: float, ax=None, title: str = "") -> Figure:
    """Genuine and impostor distance histograms with the decision threshold and its rates."""
    fig, ax = _axes(ax, (6, 3.5))
    same = np.asarray(same, bool)
    bins = np.linspace(0, 4, 81)
    ax.hist(distances[same], bins=bins, alpha=0.6, label="same person (genuine)", color="tab:green")
    ax.hist(distances[~same], bins=bins, alpha=0.6, label="different persons (impostor)", color="tab:red")
    ax.axvline(threshold, color="black", ls="--")
    rates = rates_at(distances, same, threshold)
    ax.set_title(f"{title + ': ' if title else ''}threshold {threshold:.2f} (cos {1 - threshold / 2:.2f}) -> "
                 f"acc {100 * rates['accuracy']:.1f}%, TAR {100 * rates['tar']:.1f}%, FAR {100 * rates['far']:.1f}%",
                 fontsize=8)
    ax.set_xlabel("squared L2 distance between normalised embeddings")
    ax.legend(fontsize=7)
    return fig


def plot_rotation(curves: Mapping[str, Sequence[tuple[float, float]]], ax=None) -> Figure:
    """Accuracy against in-plane rotation, one curve per label: ``{label: [(degrees, accuracy), ...]}``."""
    fig, ax = _axes(ax, (5, 3.5))
    for label, points in curves.items():
        degrees, accuracy = zip(*sorted(points), strict=True)
        ax.plot(degrees, 100 * np.array(accuracy), marker="o", label=label)
    ax.set_xlabel("in-plane rotation of both faces (degrees)")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def worst_pairs(distances: np.ndarray, same: np.ndarray, threshold: float, count: int = 4) -> dict[str, list[int]]:
    """Indices of the most confident errors: false accepts (smallest impostor distances below the
    threshold) and false rejects (largest genuine distances above it)."""
    same = np.asarray(same, bool)
    order = np.argsort(distances)
    accepts = [int(i) for i in order if not same[i] and distances[i] < threshold][:count]
    rejects = [int(i) for i in order[::-1] if same[i] and distances[i] >= threshold][:count]
    return {"false accepts": accepts, "false rejects": rejects}


def plot_pair_gallery(faces_a: np.ndarray, faces_b: np.ndarray, captions: Sequence[str], title: str = "") -> Figure:
    """Pairs of ``(112, 112, 3)`` faces side by side, one column per pair, with captions."""
    count = max(len(captions), 1)
    fig = Figure(figsize=(2.2 * count, 4.6), layout="constrained")
    axes = np.asarray(fig.subplots(2, count, squeeze=False))
    for k in range(count):
        for row, faces in enumerate((faces_a, faces_b)):
            axes[row, k].axis("off")
            if k < len(captions):
                axes[row, k].imshow(faces[k])
        if k < len(captions):
            axes[0, k].set_title(captions[k], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
