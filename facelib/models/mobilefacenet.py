"""MobileFaceNet (Chen et al., CCBR 2018): our CPU-sized backbone.

Depthwise-separable bottlenecks and a global depthwise convolution (GDC) head, in the layout of
insightface's ``arcface_torch`` (``blocks=(1, 4, 6, 2)``, width ``scale=1``): about 1.2M parameters
and 0.45 GFLOPs at 112x112 with a 512-d embedding. Input ``(B, 3, 112, 112)`` in ``[-1, 1]``; output
``(B, embedding_size)``.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """Conv-BN-PReLU (``linear=True``: Conv-BN)."""

    def __init__(self, in_c: int, out_c: int, kernel: int = 1, stride: int = 1, padding: int = 0, groups: int = 1,
                 linear: bool = False) -> None:
        super().__init__()
        layers = [nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(out_c)]
        if not linear:
            layers.append(nn.PReLU(out_c))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class DepthWise(nn.Module):
    """Inverted bottleneck: 1x1 expand to ``groups`` channels, depthwise 3x3, linear 1x1 projection."""

    def __init__(self, in_c: int, out_c: int, groups: int, stride: int = 2, residual: bool = False) -> None:
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            ConvBlock(in_c, groups),
            ConvBlock(groups, groups, kernel=3, stride=stride, padding=1, groups=groups),
            ConvBlock(groups, out_c, linear=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.residual else out


def _residual(channels: int, blocks: int, groups: int) -> nn.Sequential:
    return nn.Sequential(*(DepthWise(channels, channels, groups, stride=1, residual=True) for _ in range(blocks)))


class MobileFaceNet(nn.Module):
    """MobileFaceNet.

    Args:
        embedding_size: size of the output embedding.
        blocks: residual bottlenecks in the four stages.
        scale: channel width multiplier (1: 64/128 channels).
    """

    def __init__(self, embedding_size: int = 512, blocks: tuple[int, int, int, int] = (1, 4, 6, 2),
                 scale: int = 1) -> None:
        super().__init__()
        c64, c128 = 64 * scale, 128 * scale
        stem = [ConvBlock(3, c64, kernel=3, stride=2, padding=1)]
        if blocks[0] == 1:
            stem.append(ConvBlock(c64, c64, kernel=3, padding=1, groups=c64))
        else:
            stem.append(_residual(c64, blocks[0], 128))
        self.layers = nn.Sequential(
            *stem,
            DepthWise(c64, c64, 128),
            _residual(c64, blocks[1], 128),
            DepthWise(c64, c128, 256),
            _residual(c128, blocks[2], 256),
            DepthWise(c128, c128, 512),
            _residual(c128, blocks[3], 256),
        )
        self.conv_sep = ConvBlock(c128, 512)
        self.features = nn.Sequential(  # GDC head: 7x7 depthwise, then a linear embedding
            ConvBlock(512, 512, kernel=7, groups=512, linear=True),
            nn.Flatten(),
            nn.Linear(512, embedding_size, bias=False),
            nn.BatchNorm1d(embedding_size),
        )
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(self.conv_sep(self.layers(x)))


def mobilefacenet(**kwargs) -> MobileFaceNet:
    return MobileFaceNet(**kwargs)
