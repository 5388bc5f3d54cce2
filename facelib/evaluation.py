"""Verification evaluation: the insightface/ArcFace protocol, VAL@FAR, ROC and TAR@FAR.

The protocol, exactly as insightface's ``verification.py``:

* embeddings are L2-normalised flip-summed (see :mod:`facelib.embed`); a pair's distance is the
  squared L2 distance ``d = |a - b|^2`` (``= 2 - 2 cos``); a pair is predicted "same" when ``d < t``;
* thresholds ``t`` run from 0 to 4 in steps of 0.01 (``np.arange(0, 4, 0.01)``);
* the pairs are split into 10 contiguous folds (``KFold(10, shuffle=False)``; for LFW these are
  exactly the folds of ``pairs.txt``); for each fold the threshold with the best accuracy on the other
  nine folds (the first such, ``argmax``) is applied to it;
* accuracy is reported as the mean over folds +- their population standard deviation (``np.std``).

VAL (TAR) at FAR = 1e-3 follows insightface's ``calculate_val`` (a threshold chosen on the other nine
folds, VAL and FAR measured on the tenth, averaged), except for how the threshold is chosen: its
``interp1d(far, thresholds)`` raises ``ValueError`` with current SciPy when the training FAR curve
repeats values, and it always does (FAR is a step function of the threshold), where the inverse is
not defined anyway. Here the threshold is the largest one whose training FAR does not exceed the
target: the value the interpolation was after, well defined for every curve.

The ROC and TAR at FAR = 1e-1 ... 1e-4 are computed on all pairs with scikit-learn. A FAR below
``1 / (number of different-person pairs)`` cannot be measured; such entries are flagged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import auc, roc_curve
from sklearn.model_selection import KFold

THRESHOLDS = np.arange(0, 4, 0.01)
FAR_TARGETS = (1e-1, 1e-2, 1e-3, 1e-4)


def pair_distances(embeddings_a: np.ndarray, embeddings_b: np.ndarray) -> np.ndarray:
    """Squared L2 distances ``(N,)`` between rows of two ``(N, D)`` arrays (normalised first)."""
    a = np.asarray(embeddings_a, dtype=np.float64)
    b = np.asarray(embeddings_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"embeddings must be two (N, D) arrays of one shape; got {a.shape} and {b.shape}")
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return ((a - b) ** 2).sum(axis=1)


def _accuracy(threshold: float, distances: np.ndarray, same: np.ndarray) -> tuple[float, float, float]:
    predicted = distances < threshold
    tp = np.sum(predicted & same)
    fp = np.sum(predicted & ~same)
    tn = np.sum(~predicted & ~same)
    fn = np.sum(~predicted & same)
    tpr = 0.0 if tp + fn == 0 else tp / (tp + fn)
    fpr = 0.0 if fp + tn == 0 else fp / (fp + tn)
    return tpr, fpr, (tp + tn) / distances.size


def _val_far(threshold: float, distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    predicted = distances < threshold
    n_same, n_diff = same.sum(), (~same).sum()
    val = np.sum(predicted & same) / n_same if n_same else 0.0
    far = np.sum(predicted & ~same) / n_diff if n_diff else 0.0
    return val, far


def _threshold_at_far(far_curve: np.ndarray, thresholds: np.ndarray, target: float) -> float:
    """The largest threshold whose training FAR does not exceed ``target`` (0 if none does)."""
    allowed = far_curve <= target
    return float(thresholds[allowed].max()) if allowed.any() else 0.0


@dataclass
class VerificationResult:
    """Everything one evaluation measured; :meth:`table` prints it, :meth:`to_dict` serialises it."""

    accuracy: float
    accuracy_std: float
    fold_accuracies: np.ndarray
    fold_thresholds: np.ndarray  # squared L2, chosen on the other folds
    val: float
    val_std: float
    far: float
    far_target: float
    mean_tpr: np.ndarray  # per threshold, mean over test folds (insightface's ROC)
    mean_fpr: np.ndarray
    roc_fpr: np.ndarray  # scikit-learn ROC over all pairs
    roc_tpr: np.ndarray
    auc: float
    tar_at_far: dict[float, tuple[float, bool]]  # FAR -> (TAR, measurable)
    pairs: int
    name: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def fold_thresholds_cosine(self) -> np.ndarray:
        """The per-fold thresholds as cosine similarities (``c = 1 - d / 2``)."""
        return 1.0 - self.fold_thresholds / 2.0

    def table(self) -> str:
        lines = [f"{self.name or 'verification'}: {self.pairs} pairs, {len(self.fold_accuracies)} folds",
                 f"  accuracy        {100 * self.accuracy:.2f} +- {100 * self.accuracy_std:.2f} %",
                 f"  VAL@FAR={self.far_target:g}  {100 * self.val:.2f} +- {100 * self.val_std:.2f} % "
                 f"(FAR {100 * self.far:.3f} %)",
                 f"  AUC             {self.auc:.4f}"]
        for target, (tar, measurable) in self.tar_at_far.items():
            note = "" if measurable else " (below the resolution of this many pairs)"
            lines.append(f"  TAR@FAR={target:g}  {100 * tar:.2f} %{note}")
        thresholds = ", ".join(f"{t:.2f}" for t in self.fold_thresholds)
        cosines = ", ".join(f"{c:.3f}" for c in self.fold_thresholds_cosine)
        lines += [f"  fold thresholds (squared L2): {thresholds}", f"  as cosine similarity:         {cosines}"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "pairs": self.pairs, "accuracy": self.accuracy, "accuracy_std": self.accuracy_std,
            "fold_accuracies": self.fold_accuracies.tolist(), "fold_thresholds": self.fold_thresholds.tolist(),
            "fold_thresholds_cosine": self.fold_thresholds_cosine.tolist(), "val": self.val,
            "val_std": self.val_std, "far": self.far, "far_target": self.far_target, "auc": self.auc,
            "tar_at_far": {str(k): {"tar": v[0], "measurable": v[1]} for k, v in self.tar_at_far.items()},
            "roc": {"fpr": self.roc_fpr.tolist(), "tpr": self.roc_tpr.tolist()},
            "mean_roc": {"thresholds": THRESHOLDS.tolist(), "tpr": self.mean_tpr.tolist(),
                         "fpr": self.mean_fpr.tolist()},
            **self.extra,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def evaluate(distances: np.ndarray, same: np.ndarray, folds: int = 10, far_target: float = 1e-3,
             name: str = "", fold_ids: np.ndarray | None = None) -> VerificationResult:
    """Evaluate pair distances ``(N,)`` against labels ``(N,)`` (True = same person) by the protocol above.
    ``fold_ids``: ``(N,)`` the protocol's fold of each pair, for a subset of a protocol's pairs that keeps their
    folds (the identity-clean CFP pairs); default: ``folds`` contiguous folds."""
    distances = np.asarray(distances, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    if distances.shape != same.shape or distances.ndim != 1:
        raise ValueError(f"distances and labels must be two (N,) arrays; got {distances.shape} and {same.shape}")
    if len(distances) < folds:
        raise ValueError(f"need at least {folds} pairs for {folds} folds; got {len(distances)}")
    if not np.isfinite(distances).all():
        raise ValueError("distances contain NaN or inf: check the embeddings")
    if fold_ids is None:
        splits = list(KFold(n_splits=folds, shuffle=False).split(distances))
    else:
        fold_ids = np.asarray(fold_ids)
        if fold_ids.shape != distances.shape:
            raise ValueError(f"fold_ids must be (N,) like the distances; got {fold_ids.shape}")
        splits = [(np.flatnonzero(fold_ids != f), np.flatnonzero(fold_ids == f)) for f in np.unique(fold_ids)]
        folds = len(splits)
    n_thresholds = len(THRESHOLDS)
    tprs, fprs = np.zeros((folds, n_thresholds)), np.zeros((folds, n_thresholds))
    accuracies, best = np.zeros(folds), np.zeros(folds)
    vals, fars = np.zeros(folds), np.zeros(folds)
    for fold, (train, test) in enumerate(splits):
        train_accuracy = np.array([_accuracy(t, distances[train], same[train])[2] for t in THRESHOLDS])
        best[fold] = THRESHOLDS[np.argmax(train_accuracy)]
        for k, t in enumerate(THRESHOLDS):
            tprs[fold, k], fprs[fold, k], _ = _accuracy(t, distances[test], same[test])
        accuracies[fold] = _accuracy(best[fold], distances[test], same[test])[2]
        far_train = np.array([_val_far(t, distances[train], same[train])[1] for t in THRESHOLDS])
        threshold = _threshold_at_far(far_train, THRESHOLDS, far_target)
        vals[fold], fars[fold] = _val_far(threshold, distances[test], same[test])
    fpr, tpr, _ = roc_curve(same, -distances)
    impostors = int((~same).sum())
    tar_at_far = {}
    for target in FAR_TARGETS:
        reachable = fpr <= target
        tar_at_far[target] = (float(tpr[reachable].max()) if reachable.any() else 0.0,
                              impostors > 0 and target >= 1.0 / impostors)
    return VerificationResult(
        accuracy=float(accuracies.mean()), accuracy_std=float(accuracies.std()), fold_accuracies=accuracies,
        fold_thresholds=best, val=float(vals.mean()), val_std=float(vals.std()), far=float(fars.mean()),
        far_target=far_target, mean_tpr=tprs.mean(axis=0), mean_fpr=fprs.mean(axis=0), roc_fpr=fpr, roc_tpr=tpr,
        auc=float(auc(fpr, tpr)), tar_at_far=tar_at_far, pairs=len(distances), name=name)


@dataclass(frozen=True)
class Calibration:
    """A decision threshold fitted on labelled faces (never on a test benchmark's pairs)."""

    threshold: float  # squared L2: below it, the same person
    far_target: float
    far: float  # the impostor pairs' acceptance rate at the threshold
    tar: float  # the genuine pairs' acceptance rate at the threshold
    genuine_pairs: int
    impostor_pairs: int
    faces: int
    identities: int


def calibrate_threshold(embeddings: np.ndarray, labels: np.ndarray, far_target: float = 1e-3) -> Calibration:
    """The squared-L2 threshold at which a fraction ``far_target`` of all impostor pairs among ``embeddings``
    ``(N, D)`` (unit length; ``labels`` ``(N,)`` identities) would be accepted: every pair of faces is used, so
    held-out identities give tens of thousands of impostor pairs. Needs at least ``1 / far_target`` of them."""
    embeddings = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(labels)
    if embeddings.ndim != 2 or labels.shape != (len(embeddings),):
        raise ValueError(f"need (N, D) embeddings and (N,) labels; got {embeddings.shape} and {labels.shape}")
    rows, cols = np.triu_indices(len(embeddings), k=1)
    distances = np.clip(2.0 - 2.0 * np.einsum("nd,nd->n", embeddings[rows], embeddings[cols]), 0.0, 4.0)
    genuine = labels[rows] == labels[cols]
    impostor = np.sort(distances[~genuine])
    if len(impostor) * far_target < 1:
        raise ValueError(f"{len(impostor)} impostor pairs cannot measure a FAR of {far_target:g}")
    # the largest threshold that accepts at most far_target of the impostors: the k-th smallest impostor distance
    k = int(np.floor(far_target * len(impostor)))
    threshold = float(impostor[k])
    return Calibration(threshold=threshold, far_target=far_target, far=float((impostor < threshold).mean()),
                       tar=float((distances[genuine] < threshold).mean()), genuine_pairs=int(genuine.sum()),
                       impostor_pairs=len(impostor), faces=len(embeddings), identities=len(np.unique(labels)))
