"""facelib.models.sfacenet: SFace's architecture, its weights read from the teacher's ONNX file, the warm start."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facelib.models import create_model, input_spec
from facelib.models.sfacenet import SFaceNet, _dequantize, sface_state_dict
from facelib.train.distill import teacher_init_weights

onnx = pytest.importorskip("onnx", reason="install the 'export' extra (onnx) to read SFace's ONNX weights")


def test_the_architecture_is_sfaces_plain_mobilenet_body_and_linear_head():
    model = create_model("sfacenet", embedding_size=128)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 27 and sum(m.groups > 1 for m in convs) == 13  # a stem and 13 depthwise-separable pairs
    assert model.head[3].weight.shape == (128, 1024 * 7 * 7)
    assert sum(p.numel() for p in model.parameters()) == 9_642_880
    assert input_spec("sfacenet").std == pytest.approx(128 / 255)  # SFace's (x - 127.5) / 128 of 0-255 RGB
    with pytest.raises(ValueError, match=r"\(B, 3, 112, 112\).*\(2, 3, 96, 96\)"):
        model(torch.zeros(2, 3, 96, 96))


def test_blocked_dequantisation_matches_onnx_reference_evaluator():
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(0)
    q = rng.integers(-128, 128, size=(3, 10), dtype=np.int8)  # 10 = 4 + 4 + a short last block of 2
    scale = rng.uniform(0.01, 0.1, size=(3, 3)).astype(np.float32)
    zero = rng.integers(-5, 5, size=(3, 3), dtype=np.int8)
    node = helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1, block_size=4)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("q", TensorProto.INT8, [3, 10]),
                                            helper.make_tensor_value_info("s", TensorProto.FLOAT, [3, 3]),
                                            helper.make_tensor_value_info("z", TensorProto.INT8, [3, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 10])])
    reference = ReferenceEvaluator(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]))
    expected = reference.run(None, {"q": q, "s": scale, "z": zero})[0]
    np.testing.assert_allclose(_dequantize(q, scale, zero, axis=1, block=4), expected, rtol=1e-6)


def test_sface_weights_reproduce_opencvs_sface_on_real_faces(data_env):
    """The converted network is the teacher: on aligned LFW faces its embeddings are OpenCV's (cosine > 0.9999),
    and feeding it BGR instead of RGB would not be (the channel order is checked, not assumed)."""
    from facelib.peers import SFaceEmbedder
    from facelib.verification import load_benchmark, prepare

    bench = load_benchmark("lfw", pairs=100, progress=False)  # the subset (and pack) other tests use
    faces = prepare(bench, progress=False)[0].faces[:12]
    teacher = SFaceEmbedder(flip=False)
    expected = np.stack([teacher._one(face) for face in faces])
    model = SFaceNet(embedding_size=128).eval()
    model.load_state_dict(sface_state_dict(), strict=True)
    spec = input_spec("sfacenet")
    x = (torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255 - spec.mean) / spec.std
    with torch.no_grad():
        rgb, bgr = model(x).numpy(), model(x.flip(1)).numpy()

    def cosine(a, b):
        return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

    assert cosine(rgb, expected).min() > 0.9999
    assert cosine(bgr, expected).mean() < 0.97


def test_another_onnx_file_is_refused_by_name(tmp_path):
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "not_sface",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ValueError, match=r"other.onnx is not SFace's ONNX model: it has no tensor 'conv_1_conv2d"):
        sface_state_dict(path)


def test_the_converted_weights_are_cached_once_and_load_as_sfacenet(tmp_path):
    from facelib.weights import load_weights

    path = teacher_init_weights(tmp_path / "sfacenet.safetensors")
    written = path.stat().st_mtime_ns
    assert teacher_init_weights(tmp_path / "sfacenet.safetensors").stat().st_mtime_ns == written
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    model = load_weights(create_model("sfacenet", embedding_size=128), path)
    assert torch.equal(model.state_dict()["head.3.weight"], sface_state_dict()["head.3.weight"])
    with pytest.raises(ValueError, match="holds weights for sfacenet, but the model is mobilefacenet"):
        load_weights(create_model("mobilefacenet", embedding_size=128), path)


def test_init_weights_sface_fits_only_the_sfacenet_model(tmp_path, monkeypatch):
    monkeypatch.setenv("FACELIB_DATA_DIR", str(tmp_path))
    from facelib.train.config import distill_recipe
    from facelib.train.loop import Trainer

    config = distill_recipe("roi_tanh", init_weights="sface", output=str(tmp_path / "run"))
    trainer = Trainer.__new__(Trainer)
    trainer.config = config
    with pytest.raises(ValueError, match="fit only model 'sfacenet' with 128-d embeddings; this run trains a "
                                         "mobilefacenet with 128-d"):
        trainer._initial_weights_path()
    trainer.config = config.replace(model="sfacenet")
    assert trainer._initial_weights_path() == tmp_path / "teachers" / teacher_init_weights().name
