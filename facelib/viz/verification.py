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


def plot_turned_photo(photo: np.ndarray, detector, degrees: float) -> Figure:
    """One ``(H, W, 3)`` uint8 RGB photo turned by ``degrees`` (canvas grown) and searched upright only and in any
    orientation: each search's faces (box, five landmarks, the left eye marked), and the face each aligns."""
    import matplotlib.pyplot as plt

    from ..align import detect_and_align
    from ..data.images import rotate_image
    from ..detect import NoFaceError, find_faces

    turned = rotate_image(photo, degrees, expand=True)[0]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6), gridspec_kw={"width_ratios": [2.2, 1, 2.2, 1]})
    for k, orientation in enumerate(("upright", "any")):
        ax, crop_ax = axes[2 * k], axes[2 * k + 1]
        ax.imshow(turned)
        found = find_faces(detector, turned, orientation)
        for box, score, points in zip(found.boxes, found.scores, found.landmarks, strict=True):
            x1, y1, x2, y2 = box
            ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color="lime", linewidth=1.5))
            ax.plot(points[:, 0], points[:, 1], "o", color="yellow", markersize=3)
            ax.plot(points[0, 0], points[0, 1], "o", color="red", markersize=4)  # ArcFace order: the left eye first
            ax.text(x1, y1 - 3, f"{score:.2f}", color="lime", fontsize=8)
        ax.set_title(f"{orientation}: {len(found)} face(s)", fontsize=9)
        ax.axis("off")
        try:
            aligned = detect_and_align(turned, detector, "centre", orientation=orientation, confident=True)
            crop_ax.imshow(aligned.face)
            crop_ax.set_title(f"aligned{' (weak)' if aligned.weak else ''}, roll {aligned.roll:+.0f}", fontsize=9)
        except NoFaceError:
            crop_ax.set_title("no face", fontsize=9)
        crop_ax.axis("off")
    fig.suptitle(f"the photo turned by {degrees:g} degrees", fontsize=10)
    fig.tight_layout()
    return fig
