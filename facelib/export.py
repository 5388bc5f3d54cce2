"""ONNX export of the backbones, checked against PyTorch with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ._atomic import atomic_path
from .models import NEEDS_ROIS


def example_inputs(model: nn.Module, batch: int = 2, size: int = 112) -> tuple[torch.Tensor, ...]:
    """Inputs for tracing and checking: ``(B, 3, size, size)`` images (and ``(B, 4)`` RoIs for RTNet)."""
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 3, size, size, generator=generator) * 2 - 1
    if getattr(model, "name", None) in NEEDS_ROIS:
        margin = 0.1 * size
        rois = torch.tensor([[margin, margin, size - margin, size - margin]]).repeat(batch, 1)
        rois = rois + torch.rand(batch, 4, generator=generator) * 4 - 2
        return images, rois
    return (images,)


def export_onnx(model: nn.Module, path: str | Path, check: bool = True) -> float | None:
    """Export ``model`` (eval mode, dynamic batch) to ``path``, written atomically.

    With ``check``, runs the file in onnxruntime on a batch of 3 and returns the largest absolute
    difference from PyTorch's output (None without a check).
    """
    model = model.eval()
    inputs = example_inputs(model)
    names = ["images", "rois"][: len(inputs)]
    batch = torch.export.Dim("batch")
    parameters = ["x", "rois"][: len(inputs)]
    path = Path(path)
    with atomic_path(path, ".onnx.tmp") as tmp:
        torch.onnx.export(model, inputs, str(tmp), input_names=names, output_names=["embeddings"],
                          dynamic_shapes={p: {0: batch} for p in parameters}, dynamo=True, verbose=False,
                          external_data=False)
    if not check:
        return None
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = example_inputs(model, batch=3)
    outputs = session.run(None, {name: value.numpy() for name, value in zip(names, inputs, strict=True)})[0]
    with torch.no_grad():
        expected = model(*inputs).numpy()
    return float(abs(outputs - expected).max())
