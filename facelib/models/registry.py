"""One registry from model names to constructors: ``create_model(name, **kwargs)``.

The same names appear in configs, the CLI and the weights registry.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .inputs import InputSpec
from .iresnet import iresnet18, iresnet34, iresnet50, iresnet100
from .mobilefacenet import mobilefacenet
from .rtnet import rtnet50
from .sfacenet import sfacenet

MODELS: dict[str, Callable[..., nn.Module]] = {
    "iresnet18": iresnet18,
    "iresnet34": iresnet34,
    "iresnet50": iresnet50,
    "iresnet100": iresnet100,
    "mobilefacenet": mobilefacenet,
    "rtnet50": rtnet50,
    "sfacenet": sfacenet,
}

# Each model's input contract (timm's default cfg): read by training and inference alike.
INPUT_SPECS: dict[str, InputSpec] = {name: InputSpec() for name in MODELS}
INPUT_SPECS["rtnet50"] = InputSpec(needs_rois=True, spaces=("roi_tanh_polar",))
INPUT_SPECS["sfacenet"] = InputSpec(std=128 / 255)  # SFace's (x - 127.5) / 128 of 0-255 RGB

# Models whose forward takes (x, rois) (kept for callers of the earlier name).
NEEDS_ROIS = frozenset(name for name, spec in INPUT_SPECS.items() if spec.needs_rois)


def input_spec(name: str) -> InputSpec:
    """The input contract of model ``name``."""
    if name not in INPUT_SPECS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(list_models())}")
    return INPUT_SPECS[name]


def list_models() -> list[str]:
    return sorted(MODELS)


def create_model(name: str, embedding_size: int = 512, **kwargs) -> nn.Module:
    """Build a backbone by name (see :data:`MODELS`); extra keyword arguments go to its constructor.

    Every model maps ``(B, 3, 112, 112)`` images in ``[-1, 1]`` to ``(B, embedding_size)`` embeddings;
    ``rtnet50`` also takes the ``(B, 4)`` RoIs its tanh-polar input was warped with (see :func:`input_spec`).

    Example:
        >>> import torch
        >>> model = create_model("mobilefacenet", embedding_size=128).eval()
        >>> model(torch.zeros(2, 3, 112, 112)).shape
        torch.Size([2, 128])
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(list_models())}")
    if embedding_size < 1:
        raise ValueError(f"embedding_size must be positive; got {embedding_size}")
    model = MODELS[name](embedding_size=embedding_size, **kwargs)
    model.name = name
    return model
