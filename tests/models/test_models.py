"""facelib.models: published architectures, checkpoint layouts, precisions, export."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from facelib.export import example_inputs, export_onnx
from facelib.models import MODELS, create_model, list_models

PUBLISHED_PARAMETERS = {"iresnet18": 24_025_600, "iresnet34": 34_139_328, "iresnet50": 43_590_848,
                        "iresnet100": 65_156_160, "rtnet50": 34_632_320}
STAGES = {"iresnet18": (2, 2, 2, 2), "iresnet34": (3, 4, 6, 3), "iresnet50": (3, 4, 14, 3),
          "iresnet100": (3, 13, 30, 3)}


def calibrated(name: str) -> torch.nn.Module:
    """A randomly initialised model whose BatchNorm statistics were set on a few batches, so that its
    outputs have a realistic scale (raw random init gives embeddings of 1e-7 to 1e7)."""
    torch.manual_seed(0)
    model = create_model(name)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a plain average over the calibration batches
    with torch.no_grad():
        for _ in range(3):
            model(*example_inputs(model, batch=8))
    return model.eval()


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMETERS))
def test_parameter_counts_match_the_published_architectures(name):
    assert sum(p.numel() for p in create_model(name).parameters()) == PUBLISHED_PARAMETERS[name]


def test_mobilefacenet_is_cpu_sized():
    from torch.utils.flop_counter import FlopCounterMode

    model = create_model("mobilefacenet").eval()
    assert 0.9e6 < sum(p.numel() for p in model.parameters()) < 1.3e6
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 112, 112))
    assert 0.40e9 < counter.get_total_flops() < 0.50e9


def _iresnet_state_dict_layout(name: str) -> dict[str, tuple[int, ...]]:
    """Key -> shape of an insightface arcface_torch / ibug.face_embedding iresnet checkpoint, written
    out from the architecture description independently of facelib's modules."""
    def bn(prefix, c):
        return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
                f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}
    layout = {"conv1.weight": (64, 3, 3, 3), **bn("bn1", 64), "prelu.weight": (64,)}
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), STAGES[name], strict=True), start=1):
        for block in range(blocks):
            p = f"layer{stage}.{block}"
            layout.update({**bn(f"{p}.bn1", inplanes), f"{p}.conv1.weight": (planes, inplanes, 3, 3),
                           **bn(f"{p}.bn2", planes), f"{p}.prelu.weight": (planes,),
                           f"{p}.conv2.weight": (planes, planes, 3, 3), **bn(f"{p}.bn3", planes)})
            if block == 0:
                layout.update({f"{p}.downsample.0.weight": (planes, inplanes, 1, 1), **bn(f"{p}.downsample.1", planes)})
            inplanes = planes
    layout.update({**bn("bn2", 512), "fc.weight": (512, 512 * 49), "fc.bias": (512,), **bn("features", 512)})
    return layout


def _rtnet50_state_dict_layout() -> dict[str, tuple[int, ...]]:
    """Key -> shape of an ibug.face_embedding rtnet50 checkpoint, written out independently."""
    def bn(prefix, c):
        return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
                f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}
    layout = {"conv1.weight": (64, 3, 7, 7), **bn("bn1", 64), "prelu.weight": (64,)}
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3), strict=True), start=1):
        width = planes // 2
        for block in range(blocks):
            p = f"layer{stage}.{block}"
            layout.update({f"{p}.conv1_a.weight": (width, inplanes, 1, 1), **bn(f"{p}.bn1_a", width),
                           f"{p}.conv1_b.weight": (width, inplanes, 1, 1), **bn(f"{p}.bn1_b", width),
                           f"{p}.conv_polar.0.1.weight": (width, width, 3, 3), **bn(f"{p}.conv_polar.1", width),
                           f"{p}.conv_cart.0.weight": (width, width, 3, 3), **bn(f"{p}.conv_cart.1", width),
                           f"{p}.conv3.weight": (planes * 4, width * 2, 1, 1), **bn(f"{p}.bn3", planes * 4)})
            if block == 0:
                layout.update({f"{p}.downsample.0.weight": (planes * 4, inplanes, 1, 1),
                               **bn(f"{p}.downsample.1", planes * 4)})
            inplanes = planes * 4
    layout.update({**bn("bn2", 2048), "fc.weight": (512, 2048 * 16), "fc.bias": (512,), **bn("features", 512)})
    return layout


def _random_state_dict(layout: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    state = {}
    for key, shape in layout.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(100)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        else:
            state[key] = torch.randn(shape, generator=generator) * 0.05
    return state


def _iresnet_reference_forward(state: dict[str, torch.Tensor], name: str, x: torch.Tensor) -> torch.Tensor:
    """The iResNet forward pass written with torch.nn.functional directly on the checkpoint."""
    def bn(t, p):
        return F.batch_norm(t, state[f"{p}.running_mean"], state[f"{p}.running_var"], state[f"{p}.weight"],
                            state[f"{p}.bias"], False, 0.0, 1e-5)
    x = F.prelu(bn(F.conv2d(x, state["conv1.weight"], padding=1), "bn1"), state["prelu.weight"])
    for stage, blocks in enumerate(STAGES[name], start=1):
        for block in range(blocks):
            p = f"layer{stage}.{block}"
            stride = 2 if block == 0 else 1
            out = F.conv2d(bn(x, f"{p}.bn1"), state[f"{p}.conv1.weight"], padding=1)
            out = F.prelu(bn(out, f"{p}.bn2"), state[f"{p}.prelu.weight"])
            out = bn(F.conv2d(out, state[f"{p}.conv2.weight"], stride=stride, padding=1), f"{p}.bn3")
            if block == 0:
                x = bn(F.conv2d(x, state[f"{p}.downsample.0.weight"], stride=2), f"{p}.downsample.1")
            x = out + x
    x = torch.flatten(bn(x, "bn2"), 1)
    return bn(F.linear(x, state["fc.weight"], state["fc.bias"]), "features")


def test_iresnet_loads_an_arcface_torch_checkpoint_and_computes_the_same_embeddings():
    state = _random_state_dict(_iresnet_state_dict_layout("iresnet18"))
    model = create_model("iresnet18").eval()
    model.load_state_dict(state, strict=True)
    x = torch.rand(2, 3, 112, 112) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(model(x), _iresnet_reference_forward(state, "iresnet18", x), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["iresnet34", "iresnet50", "iresnet100"])
def test_deeper_iresnets_have_the_checkpoint_layout(name):
    model_state = create_model(name).state_dict()
    assert {k: tuple(v.shape) for k, v in model_state.items()} == _iresnet_state_dict_layout(name)


def test_rtnet50_loads_an_ibug_face_embedding_checkpoint():
    layout = _rtnet50_state_dict_layout()
    model = create_model("rtnet50")
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == layout
    model.load_state_dict(_random_state_dict(layout), strict=True)


@pytest.mark.parametrize("name", list_models())
def test_every_model_runs_fp32_bf16_autocast_and_channels_last(name):
    model = calibrated(name)
    inputs = example_inputs(model)
    with torch.no_grad():
        reference = model(*inputs)
        assert reference.shape == (2, 512) and torch.isfinite(reference).all()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(*inputs)
        assert F.cosine_similarity(low.float(), reference).min() > 0.95
        model = model.to(memory_format=torch.channels_last)
        channels_last = model(inputs[0].contiguous(memory_format=torch.channels_last), *inputs[1:])
        assert torch.allclose(channels_last, reference, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("name", ["mobilefacenet", "iresnet18", "rtnet50"])
def test_onnx_export_matches_pytorch(name, tmp_path):
    pytest.importorskip("onnxruntime", reason="install the 'export' extra (onnx, onnxscript, onnxruntime)")
    difference = export_onnx(calibrated(name), tmp_path / f"{name}.onnx")
    assert difference < 1e-4
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_create_model_errors_and_registry():
    assert set(list_models()) == set(MODELS) == {"iresnet18", "iresnet34", "iresnet50", "iresnet100",
                                                  "mobilefacenet", "rtnet50", "sfacenet"}
    with pytest.raises(ValueError, match="unknown model 'resnet50'"):
        create_model("resnet50")
    assert create_model("mobilefacenet", embedding_size=128)(torch.zeros(2, 3, 112, 112)).shape == (2, 128)
    with pytest.raises(ValueError, match=r"rois must have shape \(B, 4\)"):
        create_model("rtnet50")(torch.zeros(2, 3, 112, 112), torch.zeros(3, 4))


def test_export_command(tmp_path, capsys):
    pytest.importorskip("onnxruntime", reason="install the 'export' extra (onnx, onnxscript, onnxruntime)")
    from facelib import cli

    assert cli.main(["export", "--model", "iresnet18", "--output", str(tmp_path / "m.onnx")]) == 2
    assert "no trained weights for iresnet18" in capsys.readouterr().err
    assert cli.main(["export", "--model", "mobilefacenet", "--space", "roi_tanh_polar", "--output",
                     str(tmp_path / "shipped.onnx")]) == 0  # the shipped 128-d weights
    assert "onnxruntime vs PyTorch max |diff|" in capsys.readouterr().out
    assert cli.main(["export", "--model", "mobilefacenet", "--random-init", "--output", str(tmp_path / "m.onnx")]) == 0
    assert "onnxruntime vs PyTorch max |diff|" in capsys.readouterr().out
    assert (tmp_path / "m.onnx").stat().st_size > 1_000_000
