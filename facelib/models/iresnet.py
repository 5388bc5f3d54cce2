"""iResNet ("improved ResNet") backbones of ArcFace: ``iresnet18/34/50/100``.

Architecture and parameter names follow insightface's ``arcface_torch`` (also used by
``ibug.face_embedding``), so their published state dicts load with ``strict=True``: basic blocks
BN-conv-BN-PReLU-conv-BN with the stride on the second conv, stages of 64/128/256/512 channels each
halving the resolution, and an embedding head BN-dropout-FC-BN. Input ``(B, 3, 112, 112)`` in
``[-1, 1]``; output ``(B, embedding_size)``.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class IBasicBlock(nn.Module):
    """BN-conv3x3-BN-PReLU-conv3x3(stride)-BN, plus the (projected) input."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-05)
        self.conv1 = _conv3x3(inplanes, planes)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-05)
        self.prelu = nn.PReLU(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-05)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity


class IResNet(nn.Module):
    """iResNet for 112x112 faces.

    Args:
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for iResNet-18.
        embedding_size: size of the output embedding.
        dropout: dropout probability before the FC layer.
        input_size: side of the square input; the FC layer is sized for it (``input_size / 16``).
    """

    def __init__(self, layers: tuple[int, int, int, int], embedding_size: int = 512, dropout: float = 0.0,
                 input_size: int = 112) -> None:
        super().__init__()
        if input_size % 16:
            raise ValueError(f"input_size must be a multiple of 16; got {input_size}")
        self.input_size = input_size
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-05)
        self.prelu = nn.PReLU(64)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1])
        self.layer3 = self._make_layer(256, layers[2])
        self.layer4 = self._make_layer(512, layers[3])
        self.bn2 = nn.BatchNorm2d(512, eps=1e-05)
        self.dropout = nn.Dropout(p=dropout, inplace=True)
        self.fc = nn.Linear(512 * (input_size // 16) ** 2, embedding_size)
        self.features = nn.BatchNorm1d(embedding_size, eps=1e-05)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0, 0.1)
            elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False  # as in arcface_torch: a fixed-scale final BN

    def _make_layer(self, planes: int, blocks: int) -> nn.Sequential:
        downsample = nn.Sequential(
            nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=2, bias=False),
            nn.BatchNorm2d(planes, eps=1e-05),
        )
        layers = [IBasicBlock(self.inplanes, planes, 2, downsample)]
        self.inplanes = planes
        layers += [IBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.bn2(x), 1)
        return self.features(self.fc(self.dropout(x)))


def iresnet18(**kwargs) -> IResNet:
    return IResNet((2, 2, 2, 2), **kwargs)


def iresnet34(**kwargs) -> IResNet:
    return IResNet((3, 4, 6, 3), **kwargs)


def iresnet50(**kwargs) -> IResNet:
    return IResNet((3, 4, 14, 3), **kwargs)


def iresnet100(**kwargs) -> IResNet:
    return IResNet((3, 13, 30, 3), **kwargs)
