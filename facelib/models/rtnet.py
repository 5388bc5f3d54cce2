"""RTNet: the RoI Tanh-polar Transformer Network backbone (Lin et al., arXiv 2102.02717).

A ResNet-50 whose bottlenecks are *hybrid*: the 1x1-reduced features go down two branches, one
convolved in tanh-polar space (circular padding along the angle axis, replicate padding along the
radius axis), the other converted to tanh-Cartesian space, convolved there with zero padding, and
converted back (:func:`facelib.warp.convert_space` on feature maps); the two are concatenated and
projected. The input is a face already warped into ``roi_tanh_polar`` with ``keep_aspect_ratio=True``
and ``forward(x, rois)`` takes the RoIs used, in the input's pixels.

Module layout and parameter names follow ``ibug.face_embedding``'s ``rtnet50(dilated=False)`` so its
published state dicts load with ``strict=True``; as there, the first block of each stage is not
hybrid (both branches stay polar) and the RoIs are divided by each stage's stride.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..warp import convert_space


class MixPad2d(nn.Module):
    """Pad ``(B, C, H, W)`` polar maps: circular along H (angle), replicate along W (radius)."""

    def __init__(self, padding: int = 1) -> None:
        super().__init__()
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.padding
        x = F.pad(x, (0, 0, p, p), mode="circular")
        return F.pad(x, (p, p, 0, 0), mode="replicate")


class HybridBlock(nn.Module):
    """Bottleneck with a polar branch and a (hybrid: Cartesian) branch; output ``4 * planes`` channels."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 hybrid: bool = False, bottleneck_width: int = 32) -> None:
        super().__init__()
        width = int(planes * bottleneck_width / 64)
        self.hybrid = hybrid
        self.conv1_a = nn.Conv2d(inplanes, width, kernel_size=1, bias=False)
        self.bn1_a = nn.BatchNorm2d(width)
        self.conv1_b = nn.Conv2d(inplanes, width, kernel_size=1, bias=False)
        self.bn1_b = nn.BatchNorm2d(width)
        self.conv_polar = nn.Sequential(
            nn.Sequential(MixPad2d(1), nn.Conv2d(width, width, kernel_size=3, stride=stride, bias=False)),
            nn.BatchNorm2d(width),
        )
        self.conv_cart = nn.Sequential(
            nn.Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(width),
        )
        self.conv3 = nn.Conv2d(width * 2, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        out_a = self.relu(self.bn1_a(self.conv1_a(x)))
        out_b = self.relu(self.bn1_b(self.conv1_b(x)))
        out_a = self.relu(self.conv_polar(out_a))
        if self.hybrid:
            size = out_b.shape[-2:]
            out_b = convert_space(out_b, rois, "roi_tanh_polar", "roi_tanh", keep_aspect_ratio=True)
            out_b = self.conv_cart(out_b)
            scale = size[0] / out_b.shape[-2]
            out_b = convert_space(out_b, rois / scale, "roi_tanh", "roi_tanh_polar", keep_aspect_ratio=True)
        else:
            out_b = self.conv_cart(out_b)
        out_b = self.relu(out_b)
        out = self.bn3(self.conv3(torch.cat((out_a, out_b), dim=1)))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class _Stage(nn.ModuleList):
    """Blocks applied in turn, each given the RoIs (named like ``nn.Sequential``: ``layer2.0...``)."""

    def forward(self, x: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        for block in self:
            x = block(x, rois)
        return x


class RTNet(nn.Module):
    """RTNet for 112x112 tanh-polar faces.

    Args:
        layers: blocks per stage, ``(3, 4, 6, 3)`` for RTNet-50.
        embedding_size: size of the output embedding.
        hybrid_stages: which of stages 2-4 use hybrid blocks (after their first block).
        dropout: dropout probability before the FC layer.
        input_size: side of the square input; the FC layer is sized for it (stride 32, rounded up).
    """

    def __init__(self, layers: tuple[int, int, int, int] = (3, 4, 6, 3), embedding_size: int = 512,
                 hybrid_stages: tuple[bool, bool, bool] = (True, True, True), dropout: float = 0.0,
                 input_size: int = 112) -> None:
        super().__init__()
        self.input_size = input_size
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.prelu = nn.PReLU(64)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0], stride=1, hybrid=False)
        self.layer2 = self._make_layer(128, layers[1], stride=2, hybrid=hybrid_stages[0])
        self.layer3 = self._make_layer(256, layers[2], stride=2, hybrid=hybrid_stages[1])
        self.layer4 = self._make_layer(512, layers[3], stride=2, hybrid=hybrid_stages[2])
        side = input_size
        for _ in range(5):  # conv1, maxpool, layer2-4 each halve the side (rounding up)
            side = (side + 1) // 2
        self.bn2 = nn.BatchNorm2d(2048, eps=1e-05)
        self.dropout = nn.Dropout(p=dropout, inplace=True)
        self.fc = nn.Linear(2048 * side * side, embedding_size)
        self.features = nn.BatchNorm1d(embedding_size, eps=1e-05)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
        for module in self.modules():
            if isinstance(module, HybridBlock):
                nn.init.constant_(module.bn3.weight, 0)  # zero-init residual branches
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False

    def _make_layer(self, planes: int, blocks: int, stride: int, hybrid: bool) -> _Stage:
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, kernel_size=1, stride=stride, bias=False),
                                       nn.BatchNorm2d(planes * 4))
        layers = [HybridBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [HybridBlock(self.inplanes, planes, hybrid=hybrid) for _ in range(1, blocks)]
        return _Stage(layers)

    def forward(self, x: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, 3, H, W)`` tanh-polar faces; ``rois``: ``(B, 4)`` in ``x``'s pixels. Returns ``(B, D)``."""
        if rois.dim() != 2 or rois.shape != (x.shape[0], 4):
            raise ValueError(f"rois must have shape (B, 4) = ({x.shape[0]}, 4); got {tuple(rois.shape)}")
        height = x.shape[-2]
        rois = rois.to(x.dtype if x.is_floating_point() else torch.float32)
        x = self.maxpool(self.prelu(self.bn1(self.conv1(x))))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x, rois / (height / x.shape[-2]))
        x = torch.flatten(self.bn2(x), 1)
        return self.features(self.fc(self.dropout(x)))


def rtnet50(**kwargs) -> RTNet:
    return RTNet((3, 4, 6, 3), **kwargs)
