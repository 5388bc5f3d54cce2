"""facelib: face embeddings in RoI-tanh warping spaces.

The public surface, loaded on first use so that ``import facelib`` stays cheap:

* ``facelib.warp``: the four warping spaces (``warp``, ``restore``, ``points_to_space``, ...);
* ``facelib.create_model``, ``facelib.list_models``: backbones by name;
* ``facelib.FaceEmbedder``: photos or aligned faces to embeddings (the default shipped model when none is named);
* ``facelib.detect_and_align``: detect -> choose one face -> align, the step every pipeline shares.

Example:
    >>> import facelib
    >>> facelib.create_model("mobilefacenet", embedding_size=128).name
    'mobilefacenet'
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

_LAZY = {
    "warp": ("facelib.warp", None),
    "create_model": ("facelib.models", "create_model"),
    "list_models": ("facelib.models", "list_models"),
    "FaceEmbedder": ("facelib.embed", "FaceEmbedder"),
    "detect_and_align": ("facelib.align", "detect_and_align"),
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'facelib' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = importlib.import_module(module)
    return value if attribute is None else getattr(value, attribute)


def __dir__() -> list[str]:
    return sorted(__all__)
