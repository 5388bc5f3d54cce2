"""Aligned packs: every image of a data set detected and aligned once, cached in one file.

A pack is an ``.npz`` (read with ``allow_pickle=False``) holding, per image: its key (path relative
to the data set root), the aligned 112x112 face as JPEG bytes (quality 95), the box, landmarks and
score used, and how the face was obtained:

* ``detected``: the detector found it (the largest face when there were several);
* ``fallback``: no face was found, so the ArcFace template was placed in the data set's typical face
  box (for deep-funneled LFW, :data:`facelib.data.lfw.DEEPFUNNELED_FACE_BOX`; elsewhere the central
  square of 60% of the shorter side) and the image aligned to that. Counted in the report, never
  silent.

Packs and their JSON reports are written atomically.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from .._atomic import atomic_path
from ..align import ALIGNED_SIZE, ARCFACE_TEMPLATE, norm_crop
from .images import load_image

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


@dataclass
class AlignedPack:
    """Aligned faces and how each was found. Shapes: faces ``(N, 112, 112, 3)`` uint8 RGB."""

    keys: list[str]
    faces: np.ndarray
    boxes: np.ndarray  # (N, 4)
    landmarks: np.ndarray  # (N, 5, 2)
    scores: np.ndarray  # (N,)  0 for fallbacks
    status: np.ndarray  # (N,) "detected" | "fallback"
    report: dict = field(default_factory=dict)

    def index(self) -> dict[str, int]:
        return {key: k for k, key in enumerate(self.keys)}

    def faces_for(self, keys: Sequence[str]) -> np.ndarray:
        index = self.index()
        missing = [key for key in keys if key not in index]
        if missing:
            raise KeyError(f"{len(missing)} images are not in the pack, e.g. {missing[0]!r}")
        return self.faces[[index[key] for key in keys]]


def template_landmarks(box: Sequence[float]) -> np.ndarray:
    """The ArcFace template's five points placed in a box ``(x1, y1, x2, y2)``: ``(5, 2)``."""
    x1, y1, x2, y2 = box
    return ARCFACE_TEMPLATE / ALIGNED_SIZE * [x2 - x1, y2 - y1] + [x1, y1]


def central_box(image: np.ndarray, fraction: float = 0.6) -> tuple[float, float, float, float]:
    height, width = image.shape[:2]
    side = fraction * min(height, width)
    return (width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2


def build_pack(keys: Sequence[str], root: Path, detector, fallback_box: Callable[[np.ndarray], Sequence[float]],
               progress: bool = True, name: str = "") -> AlignedPack:
    """Detect and align every image ``root / key``."""
    start = time.perf_counter()
    faces = np.zeros((len(keys), ALIGNED_SIZE, ALIGNED_SIZE, 3), np.uint8)
    boxes, landmarks = np.zeros((len(keys), 4), np.float32), np.zeros((len(keys), 5, 2), np.float32)
    scores, status = np.zeros(len(keys), np.float32), np.empty(len(keys), dtype="<U8")
    several = 0
    for k, key in enumerate(tqdm(keys, desc=f"aligning {name}", disable=not progress)):
        image = load_image(Path(root) / key)
        detections = detector.detect(image)
        if len(detections):
            face = detections.largest()
            several += len(detections) > 1
            boxes[k], landmarks[k] = detections.boxes[face], detections.landmarks[face]
            scores[k] = detections.scores[face]
            status[k] = "detected"
        else:
            boxes[k] = fallback_box(image)
            landmarks[k] = template_landmarks(boxes[k])
            status[k] = "fallback"
        faces[k] = norm_crop(image, landmarks[k])
    seconds = time.perf_counter() - start
    fallbacks = [key for key, s in zip(keys, status, strict=True) if s == "fallback"]
    report = {
        "name": name, "images": len(keys), "detected": len(keys) - len(fallbacks), "fallback": len(fallbacks),
        "several_faces_used_largest": int(several), "detector": getattr(detector, "name", type(detector).__name__),
        "seconds": round(seconds, 1), "ms_per_image": round(1000 * seconds / max(len(keys), 1), 1),
        "fallback_images": fallbacks, "format": FORMAT_VERSION,
    }
    return AlignedPack(list(keys), faces, boxes, landmarks, scores, status, report)


def save_pack(pack: AlignedPack, path: str | Path) -> Path:
    """Write the pack (JPEG-encoded faces) and ``<path>.json`` (its report), each atomically."""
    path = Path(path)
    encoded = [cv2.imencode(".jpg", cv2.cvtColor(face, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])[1]
               for face in pack.faces]
    offsets = np.cumsum([0] + [len(e) for e in encoded])
    blob = np.concatenate(encoded) if encoded else np.zeros(0, np.uint8)

    with atomic_path(path, ".npz.tmp") as tmp, open(tmp, "wb") as f:
        np.savez(f, keys=np.array(pack.keys), jpeg=blob, offsets=offsets, boxes=pack.boxes,
                 landmarks=pack.landmarks, scores=pack.scores, status=pack.status,
                 report=np.array(json.dumps(pack.report)))
    with atomic_path(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(pack.report, indent=1))
    return path


def load_pack(path: str | Path) -> AlignedPack:
    """Read a pack written by :func:`save_pack` (no pickles)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"aligned pack not found: {path} (create it with `facelib prepare`)")
    try:
        with np.load(path, allow_pickle=False) as data:
            blob, offsets = data["jpeg"], data["offsets"]
            faces = np.stack([cv2.cvtColor(cv2.imdecode(blob[offsets[k]:offsets[k + 1]], cv2.IMREAD_COLOR),
                                           cv2.COLOR_BGR2RGB) for k in range(len(offsets) - 1)])
            return AlignedPack([str(k) for k in data["keys"]], faces, data["boxes"], data["landmarks"],
                               data["scores"], data["status"], json.loads(str(data["report"])))
    except (KeyError, ValueError, OSError, cv2.error) as err:
        raise ValueError(f"{path} is not a facelib aligned pack (or is damaged): {err}") from err
