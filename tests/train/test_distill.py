"""Distillation: teacher targets cached once, outliers dropped, the student pulled towards the teacher."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facelib.train import distill
from facelib.train.config import TrainConfig
from facelib.train.data import FaceTrainingSet, WithMixedFaces
from facelib.train.loop import CheckpointError, Trainer, train


class _Teacher:
    """A stand-in teacher: a fixed random projection of the mean colour, counted calls."""

    key, calls = "fake-teacher", 0

    def embed_faces(self, faces: np.ndarray) -> np.ndarray:
        type(self).calls += 1
        features = faces.reshape(len(faces), -1, 3).mean(1) / 255.0
        projected = np.concatenate([features, features[:, ::-1] ** 2], 1) @ np.random.default_rng(0).normal(
            size=(6, 16))
        return projected / np.linalg.norm(projected, axis=1, keepdims=True)


@pytest.fixture
def fake_teacher(monkeypatch, tmp_path):
    monkeypatch.setenv("FACELIB_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(distill, "create_teacher", lambda name: _Teacher())
    _Teacher.calls = 0
    return _Teacher


def test_teacher_targets_are_computed_once_and_cached(tiny_pack, fake_teacher):
    data = FaceTrainingSet(tiny_pack)
    first = distill.teacher_targets(data, progress=False)
    calls = fake_teacher.calls
    second = distill.teacher_targets(data, progress=False)
    assert fake_teacher.calls == calls  # read from the cache
    assert first.shape == (len(data), 2, 16) and np.array_equal(first, second)
    assert np.allclose(np.linalg.norm(first, axis=2), 1.0, atol=1e-5)
    # view 1 is the teacher's embedding of the mirror image
    face = data[3][0].permute(1, 2, 0).numpy()
    assert np.allclose(first[3, 1], _Teacher().embed_faces(face[None, :, ::-1])[0], atol=1e-6)


def test_a_damaged_teacher_cache_is_recomputed(tiny_pack, fake_teacher):
    data = FaceTrainingSet(tiny_pack)
    distill.teacher_targets(data, progress=False)
    cache = next((distill.data_dir() / "teachers").glob("*.npy"))
    cache.write_bytes(b"not a numpy file")
    targets = distill.teacher_targets(data, progress=False)
    assert targets.shape == (len(data), 2, 16)


def test_identity_outliers_are_the_images_far_from_their_identity():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8))
    targets = np.repeat(centres, 5, axis=0) + 0.05 * rng.normal(size=(15, 8))
    targets[7] = -centres[1]  # an image of identity 1 that looks like nobody of it
    targets /= np.linalg.norm(targets, axis=1, keepdims=True)
    labels = np.repeat(np.arange(3), 5)
    assert distill.identity_outliers(np.stack([targets, targets], 1), labels, 0.3).tolist() == [7]


def test_distillation_loss_is_one_minus_cosine():
    student = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    teacher = torch.tensor([[1.0, 1.0], [0.0, -1.0]])
    expected = ((1 - 2 ** -0.5) + 2) / 2
    assert distill.distillation_loss(student, teacher).item() == pytest.approx(expected)
    assert distill.distillation_loss(teacher, teacher, similarity_weight=3.0).item() == pytest.approx(0.0, abs=1e-6)


def _config(pack, output, **changes) -> TrainConfig:
    base = TrainConfig(data=str(pack), output=str(output), model="mobilefacenet", space="roi_tanh_polar",
                       embedding_size=16, teacher="sface", margin_weight=0.0, optimizer="adamw", lr=3e-3,
                       weight_decay=0.0, schedule="cosine", warmup_steps=2, batch_size=8, total_steps=30,
                       checkpoint_every=10, verify_benchmark="", verify_every=10, num_workers=0, log_every=1,
                       channels_last=False, holdout_identities=1, min_identity_cosine=-1.0,
                       augment={"max_shift": 0.0, "max_scale": 0.0, "max_rotation": 0.0, "flip": True,
                                "colour": 0.1, "grey": 0.1})
    return base.replace(**changes)


def test_distillation_pulls_the_student_towards_the_teacher(tiny_pack, fake_teacher, tmp_path):
    trainer = Trainer(_config(tiny_pack, tmp_path / "run"))
    assert trainer.report["holdout_identities"] == 1 and trainer.report["holdout_images"] == 8
    assert trainer.report["training_images"] == 40  # the held-out identity is never trained on
    before = trainer.holdout_cosine()
    summary = trainer.run()
    assert summary["holdout_teacher_cosine"] > before + 0.2, (before, summary["holdout_teacher_cosine"])
    losses = [h["loss"] for h in trainer.history if h.get("loss") is not None]
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


@pytest.mark.parametrize("mixup_faces", [0, 24])
def test_the_fit_gap_compares_trained_faces_with_held_out_ones(tiny_pack, fake_teacher, tmp_path, repo_script,
                                                               mixup_faces):
    config = _config(tiny_pack, tmp_path / "run", total_steps=10, mixup_faces=mixup_faces)
    trainer = Trainer(config)
    summary = trainer.run()
    with pytest.raises(ValueError, match="non-empty selection of the 48 faces"):
        trainer.teacher_cosine(np.array([0, 48]))
    weights = tmp_path / "run" / "mobilefacenet_roi_tanh_polar.safetensors"
    row = repo_script("benchmarks/fit_gap.py").fit_gap(config, str(weights), identities=2)
    # the shipped weights measured again give the run's own model-selection figure
    assert row["holdout_cosine"] == pytest.approx(summary["holdout_teacher_cosine"], abs=2e-3)
    assert row["holdout_images"] == 8 and row["trained_images"] == 16  # every face of 2 trained identities
    labels = trainer.labels
    chosen = row["trained_identities"]
    assert len(chosen) == 2 and not set(chosen) & set(labels[trainer.holdout_indices].tolist())
    faces = np.flatnonzero(np.isin(labels, chosen))
    assert row["trained_cosine"] == pytest.approx(trainer.teacher_cosine(faces), abs=2e-3)
    assert row["gap"] == pytest.approx(row["trained_cosine"] - row["holdout_cosine"], abs=2e-4)
    table = repo_script("benchmarks/fit_gap.py").markdown([row | {"precision": "fp32"}])
    assert table.endswith("Students in fp32 (the precision `auto` picks on this CPU).\n")


def test_the_teacher_must_give_the_embedding_size(tiny_pack, fake_teacher, tmp_path):
    with pytest.raises(ValueError, match="embedding_size=16"):
        train(_config(tiny_pack, tmp_path / "run", embedding_size=32))


def test_mixup_pairs_blend_two_identities_from_the_given_faces_only():
    labels = np.repeat(np.arange(6), 5)
    indices = np.flatnonzero(labels != 2)  # identity 2 held out
    pairs, weights = distill.mixup_pairs(indices, labels, 200, seed=3)
    assert pairs.shape == (200, 2) and weights.shape == (200,) and weights.dtype == np.float32
    assert np.isin(pairs, indices).all() and (labels[pairs[:, 0]] != labels[pairs[:, 1]]).all()
    assert weights.min() >= distill.MIXUP_WEIGHTS[0] and weights.max() <= distill.MIXUP_WEIGHTS[1]
    again = distill.mixup_pairs(indices, labels, 200, seed=3)
    assert np.array_equal(pairs, again[0]) and np.array_equal(weights, again[1])
    assert not np.array_equal(pairs, distill.mixup_pairs(indices, labels, 200, seed=4)[0])
    with pytest.raises(ValueError, match="at least two identities"):
        distill.mixup_pairs(np.flatnonzero(labels == 1), labels, 10, seed=0)


def test_another_mixup_draw_gives_fresh_blends_and_draw_0_stays_the_first_draw():
    labels = np.repeat(np.arange(40), 5)
    indices = np.arange(len(labels))
    first = distill.mixup_pairs(indices, labels, 300, seed=0)
    # draw 0 is the draw every run made before draws existed: its cached teacher labels stay valid
    rng = np.random.default_rng([0, 300])
    pairs = indices[rng.integers(0, len(indices), (2 * 300 + 16, 2))]
    assert np.array_equal(first[0], pairs[labels[pairs[:, 0]] != labels[pairs[:, 1]]][:300])
    assert np.array_equal(first[0], distill.mixup_pairs(indices, labels, 300, seed=0, draw=0)[0])
    second = distill.mixup_pairs(indices, labels, 300, seed=0, draw=1)
    assert np.array_equal(second[0], distill.mixup_pairs(indices, labels, 300, seed=0, draw=1)[0])
    shared = {tuple(p) for p in first[0].tolist()} & {tuple(p) for p in second[0].tolist()}
    assert len(shared) < 10 and not np.array_equal(first[1], second[1])  # fresh pairs, fresh weights
    assert (labels[second[0][:, 0]] != labels[second[0][:, 1]]).all()
    with pytest.raises(ValueError, match="mixup draw must be >= 0; got -1"):
        distill.mixup_pairs(indices, labels, 10, seed=0, draw=-1)


def test_mixed_faces_are_labelled_by_the_teacher_once_and_cached(tiny_pack, fake_teacher):
    data = FaceTrainingSet(tiny_pack)
    pairs, weights = distill.mixup_pairs(np.arange(len(data)), np.array([lab for _, lab in data.items]), 12, 0)
    targets = distill.mixup_targets(data, pairs, weights, progress=False)
    calls = fake_teacher.calls
    assert np.array_equal(distill.mixup_targets(data, pairs, weights, progress=False), targets)
    assert fake_teacher.calls == calls  # read from the cache
    mixed = WithMixedFaces(data, pairs, weights)
    assert len(mixed) == len(data) + 12 and mixed[5][1] == data[5][1]
    face, label, index = mixed[len(data) + 7]
    assert label == -1 and index == len(data) + 7
    a, b = data[int(pairs[7, 0])][0].float(), data[int(pairs[7, 1])][0].float()
    assert torch.allclose(face.float(), weights[7] * a + (1 - weights[7]) * b, atol=0.5)
    assert not torch.equal(face, data[int(pairs[7, 0])][0])
    # the targets are the teacher's embeddings of exactly that face (view 0) and its mirror image (view 1)
    hwc = face.permute(1, 2, 0).numpy()
    assert np.allclose(targets[7, 0], _Teacher().embed_faces(hwc[None])[0], atol=1e-6)
    assert np.allclose(targets[7, 1], _Teacher().embed_faces(hwc[None, :, ::-1])[0], atol=1e-6)
    other = distill.mixup_targets(data, pairs[:6], weights[:6], progress=False)  # another draw: its own cache
    assert np.array_equal(other, targets[:6]) and len(list((distill.data_dir() / "teachers").glob("*.npy"))) == 2


def test_a_run_trains_on_mixed_faces_of_its_training_identities(tiny_pack, fake_teacher, tmp_path):
    trainer = Trainer(_config(tiny_pack, tmp_path / "run", mixup_faces=24, total_steps=8))
    assert trainer.report["mixup_faces"] == 24 and trainer.report["training_images"] == 40
    assert len(trainer.train_indices) == 40 and len(trainer.sample_indices) == 64
    assert trainer.targets.shape == (48 + 24, 2, 16)
    held = set(trainer.labels[trainer.holdout_indices].tolist())
    pairs = trainer.loader_data.pairs
    assert not held & set(trainer.labels[pairs.ravel()].tolist())  # held-out faces are never mixed in
    seen, losses, step = [], [], trainer.train_step

    def recorded(images, labels, indices):
        seen.extend(indices.tolist())
        losses.append(step(images, labels, indices))
        return losses[-1]

    trainer.train_step, trainer.callbacks = recorded, []
    trainer.run()
    assert any(i >= 48 for i in seen) and any(i < 48 for i in seen)  # real and mixed faces in the batches
    assert len(losses) == 8 and np.isfinite(losses).all()
    trainer.save_checkpoint()
    with pytest.raises(CheckpointError, match="mixup_faces was 24, now 0"):
        Trainer(_config(tiny_pack, tmp_path / "run", mixup_faces=0, total_steps=8), resume=True)
    with pytest.raises(CheckpointError, match="mixup_draw was 0, now 1"):  # other blends: another run
        Trainer(_config(tiny_pack, tmp_path / "run", mixup_faces=24, mixup_draw=1, total_steps=8), resume=True)
    fresh = Trainer(_config(tiny_pack, tmp_path / "fresh", mixup_faces=24, mixup_draw=1, total_steps=8))
    assert not np.array_equal(fresh.loader_data.pairs, pairs)
    assert not held & set(fresh.labels[fresh.loader_data.pairs.ravel()].tolist())


def test_mixed_faces_need_a_teacher_and_no_margin_loss(tiny_pack, tmp_path):
    with pytest.raises(ValueError, match="mixup_faces=8 needs a teacher and margin_weight=0"):
        _config(tiny_pack, tmp_path, mixup_faces=8, margin_weight=1.0)
    with pytest.raises(ValueError, match="mixup_draw=2 needs mixup_faces > 0"):
        _config(tiny_pack, tmp_path, mixup_draw=2)
    with pytest.raises(ValueError, match="mixup_draw must be >= 0; got -1"):
        _config(tiny_pack, tmp_path, mixup_faces=8, mixup_draw=-1)
