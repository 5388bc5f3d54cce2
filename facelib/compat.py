"""The entry points of ``ibug.face_embedding``, as a thin layer over :class:`facelib.embed.FaceEmbedder`.

``FaceEmbeddingPredictor(backbone, project_to_space, model_path, device)`` embeds one aligned face;
``crop_face`` and ``norm_crop`` are the two cropping helpers under the same names.
"""

from __future__ import annotations

import numpy as np
import torch

from .align import crop_face, norm_crop
from .embed import FaceEmbedder


class FaceEmbeddingPredictor:
    """Embed an aligned face like ``ibug.face_embedding.FaceEmbeddingPredictor``.

    Args:
        backbone: ``iresnet18``, ``iresnet50``, ``rtnet50`` or any facelib model name.
        project_to_space: ``None`` (Cartesian), ``roi_tanh``, ``roi_tanh_polar`` or ``roi_tanh_circular``.
        model_path: a weight file (facelib's safetensors, or an ibug/insightface ``.pth`` state dict).
        device: torch device; defaults to ``cuda:0`` when available, as the original, else ``cpu``.
    """

    def __init__(self, backbone: str = "iresnet18", project_to_space: str | None = None,
                 model_path: str | None = None, device: str | torch.device | None = None) -> None:
        if device is None:
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        self.embedder = FaceEmbedder(backbone, project_to_space or "cartesian", model_path, device)

    def __call__(self, img: np.ndarray, bgr: bool = False, flip: bool = True,
                 normalize_embedding: bool = True) -> np.ndarray:
        """``(D,)`` embedding of an aligned ``(H, W, 3)`` uint8 face (resized to 112x112 if needed).

        ``normalize_embedding=False`` is not supported: facelib always returns unit-length embeddings.
        """
        import cv2

        if not normalize_embedding:
            raise ValueError("facelib returns L2-normalised embeddings only (normalize_embedding=False)")
        image = np.asarray(img)
        if bgr:
            image = image[..., ::-1]
        if image.shape[:2] != (112, 112):
            image = cv2.resize(np.ascontiguousarray(image), (112, 112))
        self.embedder.flip = flip
        return self.embedder.embed(np.ascontiguousarray(image))[0].numpy()


__all__ = ["FaceEmbeddingPredictor", "crop_face", "norm_crop"]
