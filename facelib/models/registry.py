"""One registry from model names to constructors: ``create_model(name, **kwargs)``.

The same names appear in configs, the CLI and the weights registry.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .iresnet import iresnet18, iresnet34, iresnet50, iresnet100
from .mobilefacenet import mobilefacenet
from .rtnet import rtnet50

MODELS: dict[str, Callable[..., nn.Module]] = {
    "iresnet18": iresnet18,
    "iresnet34": iresnet34,
    "iresnet50": iresnet50,
    "iresnet100": iresnet100,
    "mobilefacenet": mobilefacenet,
    "rtnet50": rtnet50,
}

# Models whose forward takes (x, rois) and which only work on roi_tanh_polar inputs.
NEEDS_ROIS = frozenset({"rtnet50"})


def list_models() -> list[str]:
    return sorted(MODELS)


def create_model(name: str, embedding_size: int = 512, **kwargs) -> nn.Module:
    """Build a backbone by name (see :data:`MODELS`); extra keyword arguments go to its constructor.

    Every model maps ``(B, 3, 112, 112)`` images in ``[-1, 1]`` to ``(B, embedding_size)`` embeddings;
    ``rtnet50`` also takes the ``(B, 4)`` RoIs its tanh-polar input was warped with.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(list_models())}")
    if embedding_size < 1:
        raise ValueError(f"embedding_size must be positive; got {embedding_size}")
    model = MODELS[name](embedding_size=embedding_size, **kwargs)
    model.name = name
    return model
