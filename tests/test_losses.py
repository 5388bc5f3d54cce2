"""facelib.losses: values against the formula, stability at cos = +-1, and that training reduces the loss."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from facelib.losses import ArcFaceLoss, CombinedMarginLoss, CosFaceLoss, CosineClassifier, create_loss

COSINE = torch.tensor([[0.9, 0.1, -0.3], [0.2, 0.5, 0.4], [-0.7, 0.0, 0.99]])
LABELS = torch.tensor([0, 1, 2])


def _direct(cosine, labels, s, m1, m2, m3):
    """The loss written out element by element, for comparison."""
    total = 0.0
    for row, label in enumerate(labels.tolist()):
        logits = [s * c for c in cosine[row].tolist()]
        theta = math.acos(cosine[row, label].item())
        logits[label] = s * (math.cos(m1 * theta + m2) - m3)
        top = max(logits)
        total += -(logits[label] - top) + math.log(sum(math.exp(v - top) for v in logits))
    return total / len(labels)


@pytest.mark.parametrize("s,m1,m2,m3", [(64, 1, 0.5, 0), (30, 1, 0, 0.35), (16, 1.35, 0, 0), (8, 1.2, 0.3, 0.2),
                                        (10, 1, 0, 0), (32, 1, 0.2, 0.1)])
def test_loss_matches_the_formula(s, m1, m2, m3):
    loss = CombinedMarginLoss(s, m1, m2, m3)(COSINE, LABELS)
    assert loss.item() == pytest.approx(_direct(COSINE, LABELS, s, m1, m2, m3), rel=1e-5)


def test_arcface_and_cosface_are_the_combined_margin():
    assert ArcFaceLoss(64, 0.5)(COSINE, LABELS) == CombinedMarginLoss(64, 1, 0.5, 0)(COSINE, LABELS)
    assert CosFaceLoss(64, 0.4)(COSINE, LABELS) == CombinedMarginLoss(64, 1, 0, 0.4)(COSINE, LABELS)
    assert isinstance(create_loss("arcface", s=32, m=0.3), ArcFaceLoss)
    with pytest.raises(ValueError, match="unknown loss"):
        create_loss("triplet")


def test_target_logit_beyond_pi_keeps_decreasing_and_is_continuous():
    loss = ArcFaceLoss(1.0, 0.5)
    theta = torch.linspace(0, math.pi, 2001, dtype=torch.float64)
    psi = loss.psi(torch.cos(theta)).double()
    assert (psi[1:] <= psi[:-1] + 1e-6).all()  # monotonic in theta
    assert (psi[1:] - psi[:-1]).abs().max() < 5e-3  # no jump at pi - m
    assert psi[0] == pytest.approx(math.cos(0.5), abs=1e-3)  # theta clamped to acos(1 - 1e-7) = 4.5e-4


@pytest.mark.parametrize("params", [(64, 1, 0.5, 0), (64, 1, 0, 0.4), (64, 1.35, 0, 0), (64, 1.2, 0.3, 0.2)])
@pytest.mark.parametrize("autocast_dtype", [None, torch.bfloat16, torch.float16])
def test_no_nan_or_inf_gradients_at_cosine_plus_minus_one(params, autocast_dtype):
    embeddings = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]], requires_grad=True)
    classifier = CosineClassifier(2, 2)
    with torch.no_grad():
        classifier.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    labels = torch.tensor([0, 1, 0, 1])  # cosines exactly +1, +1, -1, -1 at the targets
    loss_fn = CombinedMarginLoss(*params)
    with torch.autocast("cpu", dtype=autocast_dtype or torch.bfloat16, enabled=autocast_dtype is not None):
        cosine = classifier(embeddings)
        loss = loss_fn(cosine, labels)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(embeddings.grad).all() and torch.isfinite(classifier.weight.grad).all()
    exact = torch.tensor([[1.0, -1.0, 1.0 + 1e-9], [-1.0, 1.0, 0.0]], requires_grad=True)
    loss_fn(exact, torch.tensor([0, 1])).backward()
    assert torch.isfinite(exact.grad).all()


def test_training_on_separable_clusters_reduces_the_loss():
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(5, 8, generator=generator) * 3
    labels = torch.arange(5).repeat_interleave(40)
    points = centres[labels] + torch.randn(200, 8, generator=generator) * 0.5
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    classifier = CosineClassifier(4, 5)
    loss_fn = ArcFaceLoss(s=16, m=0.3)
    optimizer = torch.optim.SGD([*model.parameters(), *classifier.parameters()], lr=0.1, momentum=0.9)
    losses = []
    for _ in range(150):
        loss = loss_fn(classifier(model(points)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    accuracy = (classifier(model(points)).argmax(1) == labels).float().mean()
    assert accuracy > 0.95


def test_rows_without_a_target_get_no_margin():
    loss_fn = ArcFaceLoss(10, 0.5)
    logits = loss_fn.logits(COSINE, torch.tensor([0, -1, 2]))
    assert torch.allclose(logits[1], COSINE[1] * 10)
    assert logits[0, 0] < COSINE[0, 0] * 10
    expected = F.cross_entropy(logits[[0, 2]], torch.tensor([0, 2]))
    assert loss_fn(COSINE, torch.tensor([0, -1, 2])) == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="every row is labelled -1"):
        loss_fn(COSINE, torch.full((3,), -1))


@pytest.mark.parametrize("kwargs,message", [({"s": 0}, "scale"), ({"m1": 0.5}, "margins"), ({"m2": 4.0}, "below pi")])
def test_bad_parameters_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CombinedMarginLoss(**kwargs)


def test_bad_shapes_and_labels_are_rejected():
    with pytest.raises(ValueError, match="labels must be in"):
        ArcFaceLoss()(COSINE, torch.tensor([0, 1, 3]))
    with pytest.raises(ValueError, match="labels must be"):
        ArcFaceLoss()(COSINE, torch.tensor([0, 1]))
