"""facelib.evaluation against a direct, independent computation on fixed embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from facelib.evaluation import THRESHOLDS, evaluate, pair_distances


def _fixed_pairs(n_pairs: int = 400, seed: int = 0):
    """Fixed synthetic embeddings: same pairs are noisy copies, different pairs independent."""
    rng = np.random.default_rng(seed)
    same = np.tile(np.r_[np.ones(n_pairs // 20, bool), np.zeros(n_pairs // 20, bool)], 10)
    a = rng.normal(size=(n_pairs, 16))
    b = np.where(same[:, None], a + rng.normal(scale=0.9, size=a.shape), rng.normal(size=a.shape))
    return a, b, same


def _direct(a, b, same):
    """The protocol written out with plain loops and counting."""
    a = a / np.sqrt((a ** 2).sum(1, keepdims=True))
    b = b / np.sqrt((b ** 2).sum(1, keepdims=True))
    dist = [float(((x - y) ** 2).sum()) for x, y in zip(a, b, strict=True)]
    n, size = len(dist), len(dist) // 10
    thresholds = [k * 0.01 for k in range(400)]
    accuracies, chosen = [], []
    for fold in range(10):
        test = set(range(fold * size, (fold + 1) * size))
        train = [i for i in range(n) if i not in test]

        def acc(t, idx):
            return sum((dist[i] < t) == same[i] for i in idx) / len(idx)
        scores = [acc(t, train) for t in thresholds]
        best = thresholds[scores.index(max(scores))]
        chosen.append(best)
        accuracies.append(acc(best, sorted(test)))
    mean = sum(accuracies) / 10
    std = (sum((x - mean) ** 2 for x in accuracies) / 10) ** 0.5
    return mean, std, chosen, dist


def test_accuracy_and_thresholds_match_a_direct_computation():
    a, b, same = _fixed_pairs()
    result = evaluate(pair_distances(a, b), same)
    mean, std, chosen, dist = _direct(a, b, same)
    assert result.accuracy == pytest.approx(mean, abs=1e-12)
    assert result.accuracy_std == pytest.approx(std, abs=1e-12)
    assert np.allclose(result.fold_thresholds, chosen, atol=1e-9)
    assert np.allclose(pair_distances(a, b), dist)
    assert np.allclose(result.fold_thresholds_cosine, 1 - np.array(chosen) / 2)
    assert 0.7 < result.accuracy < 0.99  # a real, imperfect separation
    assert len(THRESHOLDS) == 400 and THRESHOLDS[-1] == pytest.approx(3.99)


def test_perfect_and_chance_separations():
    same = np.tile(np.r_[np.ones(30, bool), np.zeros(30, bool)], 10)
    perfect = evaluate(np.where(same, 0.2, 1.8), same)
    assert perfect.accuracy == 1.0 and perfect.accuracy_std == 0.0 and perfect.auc == 1.0
    assert perfect.val == 1.0 and perfect.tar_at_far[1e-1][0] == 1.0
    rng = np.random.default_rng(1)
    chance = evaluate(rng.uniform(0, 4, size=600), same)
    assert 0.4 < chance.accuracy < 0.62 and 0.4 < chance.auc < 0.6


def test_val_at_far_takes_the_largest_threshold_within_the_far_even_when_the_curve_repeats():
    same = np.tile(np.r_[np.ones(30, bool), np.zeros(30, bool)], 10)
    distances = np.where(same, 0.5, 1.5)  # FAR is 0 up to 1.5, then 1: a curve full of repeats
    result = evaluate(distances, same)
    assert result.val == 1.0 and result.far == 0.0
    # A graded case worked by hand: different pairs at 1.0, 1.1, ..., so the FAR grows in steps of 1/30 per
    # fold's training set; at FAR 1e-3 no different pair may be accepted, so the threshold is the largest one
    # below the closest different pair (1.0): the same pairs at 0.95 are accepted, those at 1.05 are not.
    same_distances = np.tile(np.r_[np.full(15, 0.95), np.full(15, 1.05)], 10)
    different = np.tile(1.0 + 0.1 * np.arange(30), 10)
    distances = np.empty(600)
    distances[same], distances[~same] = same_distances, different
    graded = evaluate(distances, same)
    assert graded.val == pytest.approx(0.5) and graded.far == 0.0


def test_tar_at_far_uses_the_roc_and_flags_what_cannot_be_measured():
    a, b, same = _fixed_pairs(2000)
    result = evaluate(pair_distances(a, b), same)
    fpr, tpr = result.roc_fpr, result.roc_tpr
    for target, (tar, measurable) in result.tar_at_far.items():
        assert tar == pytest.approx(tpr[fpr <= target].max())
        assert measurable == (target >= 1 / 1000)
    assert "below the resolution" in result.table()
    data = result.to_dict()
    assert data["fold_thresholds_cosine"] == pytest.approx(list(result.fold_thresholds_cosine))
    assert len(data["mean_roc"]["tpr"]) == 400


def test_bad_inputs():
    with pytest.raises(ValueError, match="two \\(N,\\) arrays"):
        evaluate(np.zeros(20), np.zeros(19, bool))
    with pytest.raises(ValueError, match="NaN"):
        evaluate(np.full(20, np.nan), np.zeros(20, bool))
    with pytest.raises(ValueError, match="at least 10 pairs"):
        evaluate(np.zeros(5), np.zeros(5, bool))
    with pytest.raises(ValueError, match="one shape"):
        pair_distances(np.zeros((3, 4)), np.zeros((3, 5)))
