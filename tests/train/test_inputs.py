"""The model input contract: training input (augmentation in eval mode) equals the embedder's input."""

from __future__ import annotations

import pytest
import torch

from facelib.embed import FaceEmbedder
from facelib.models import CARTESIAN_ROI, input_spec, model_input
from facelib.train.config import TrainConfig
from facelib.train.loop import Trainer
from facelib.warp import SPACES, RandomRoIWarp, warp

CASES = [(model, space) for model in ("mobilefacenet", "iresnet18") for space in SPACES] + [
    ("rtnet50", "roi_tanh_polar")]


@pytest.mark.parametrize(("model", "space"), CASES)
def test_training_input_in_eval_mode_equals_the_embedders_input(tiny_pack, tmp_path, model, space):
    config = TrainConfig(data=str(tiny_pack), output=str(tmp_path / "run"), model=model, space=space,
                         embedding_size=8, batch_size=4, total_steps=1, verify_benchmark="", num_workers=0,
                         channels_last=False, augment={"flip": False})
    trainer = Trainer(config)
    trainer.augment.eval()
    faces = torch.stack([trainer.data[k][0] for k in range(4)])
    x_train, rois_train, _ = trainer._prepare(faces)
    embedder = FaceEmbedder.from_module(trainer.model, model, space)
    x_infer, rois_infer = model_input(embedder._as_tensor(faces.float() / 255.0), embedder.spec, space)
    torch.testing.assert_close(x_train, x_infer, rtol=0, atol=2e-5)
    assert (rois_train is None) == (rois_infer is None) == (not input_spec(model).needs_rois)


def test_the_cartesian_roi_makes_the_cartesian_warp_the_identity():
    faces = torch.rand(2, 3, 112, 112)
    rois = torch.tensor([CARTESIAN_ROI]).expand(2, 4)
    torch.testing.assert_close(warp(faces, rois, 112, "cartesian", keep_aspect_ratio=True), faces, rtol=0,
                               atol=5e-5)  # float32 bilinear weights at whole pixels


def test_the_cartesian_space_is_augmented_like_the_others():
    faces = torch.rand(2, 3, 112, 112)
    augment = RandomRoIWarp("cartesian", 112, max_shift=0.1, max_rotation=0.3, keep_aspect_ratio=True)
    x, _ = model_input(faces, input_spec("mobilefacenet"), "cartesian", augment, torch.Generator().manual_seed(0))
    assert (x - (faces - 0.5) / 0.5).abs().mean() > 0.05


def test_a_model_refuses_a_space_it_does_not_work_in():
    with pytest.raises(ValueError, match="roi_tanh_polar"):
        model_input(torch.rand(1, 3, 112, 112), input_spec("rtnet50"), "cartesian")
