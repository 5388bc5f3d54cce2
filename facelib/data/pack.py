"""Aligned packs: every image of a data set detected and aligned once, cached in one file.

A pack is an ``.npz`` (read with ``allow_pickle=False``) holding, per image: its key (path relative
to the data set root), the aligned 112x112 face as PNG bytes (lossless: every run embeds exactly the
stored faces; JPEG quality 95 cost SFace ~0.1 point of LFW accuracy), the box, landmarks and score
used, and how the face was obtained:

* ``detected``: the detector found it; among several faces the rule ``choice`` picks one (benchmarks:
  the face nearest the image centre; the report counts photos with several faces and how often the
  largest face would have been another);
* ``fallback``: no face was found, so the ArcFace template was placed in the data set's typical face
  box (for deep-funneled LFW, :data:`facelib.data.lfw.DEEPFUNNELED_FACE_BOX`; elsewhere the central
  square of 60% of the shorter side) and the image aligned to that. Counted in the report, never
  silent.

Packs and their JSON reports are written atomically. Each face carries a digest of its key and PNG bytes, checked
on every load (a face moved to another key is named), and the pack's :attr:`AlignedPack.digest` of its content
keys the embedding caches (a changed pack never reads another pack's embeddings).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from .._atomic import atomic_path
from ..align import ALIGNED_SIZE, central_box, detect_and_align, template_landmarks  # noqa: F401 (re-exported)
from .folders import Sample
from .images import load_image

log = logging.getLogger(__name__)
# 2: faces stored as PNG (lossless) and chosen by an explicit rule; 1 stored JPEG and chose the largest.
FORMAT_VERSION = 2


class PackError(ValueError):
    """An aligned pack is damaged or of another format; the message names the file."""


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
    digest: str = ""  # sha256 of the faces' keys and PNG bytes, in order (set by load_pack)

    def index(self) -> dict[str, int]:
        return {key: k for k, key in enumerate(self.keys)}

    def rows_for(self, keys: Sequence[str]) -> np.ndarray:
        """``(K,)`` the row of each key (image path) in the pack's arrays; a missing key is named."""
        index = self.index()
        missing = [key for key in keys if key not in index]
        if missing:
            raise KeyError(f"{len(missing)} images are not in the pack, e.g. {missing[0]!r}")
        return np.array([index[key] for key in keys], dtype=np.int64)

    def faces_for(self, keys: Sequence[str]) -> np.ndarray:
        """``(K, 112, 112, 3)`` the aligned faces of ``keys``, in that order."""
        return self.faces[self.rows_for(keys)]


def build_pack(keys: Sequence[str], root: Path, detector, fallback_box: Callable[[np.ndarray], Sequence[float]],
               progress: bool = True, name: str = "", choice: str = "centre") -> AlignedPack:
    """Detect, choose (``choice``: see :data:`facelib.detect.FACE_CHOICES`) and align every image ``root / key``."""
    start = time.perf_counter()
    faces = np.zeros((len(keys), ALIGNED_SIZE, ALIGNED_SIZE, 3), np.uint8)
    boxes, landmarks = np.zeros((len(keys), 4), np.float32), np.zeros((len(keys), 5, 2), np.float32)
    scores, status = np.zeros(len(keys), np.float32), np.empty(len(keys), dtype="<U8")
    several, differs = 0, []
    for k, key in enumerate(tqdm(keys, desc=f"aligning {name}", disable=not progress)):
        found = detect_and_align(load_image(Path(root) / key), detector, choice, fallback_box)
        faces[k], boxes[k], landmarks[k], scores[k], status[k] = (found.face, found.box, found.landmarks,
                                                                  found.score, found.status)
        several += found.faces > 1
        if found.index != found.largest:
            differs.append(key)
    seconds = time.perf_counter() - start
    fallbacks = [key for key, s in zip(keys, status, strict=True) if s == "fallback"]
    report = {
        "name": name, "images": len(keys), "detected": len(keys) - len(fallbacks), "fallback": len(fallbacks),
        "face_choice": choice, "several_faces": int(several), "choice_differs_from_largest": len(differs),
        "detector": getattr(detector, "name", type(detector).__name__),
        "seconds": round(seconds, 1), "ms_per_image": round(1000 * seconds / max(len(keys), 1), 1),
        "fallback_images": fallbacks, "choice_differs_images": differs, "format": FORMAT_VERSION,
    }
    return AlignedPack(list(keys), faces, boxes, landmarks, scores, status, report)


def encode_face(face: np.ndarray, lossless: bool = True) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 RGB face as PNG bytes (``lossless``) or JPEG quality 95 (the MS1M convention)."""
    bgr = cv2.cvtColor(face, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", bgr) if lossless else cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise ValueError(f"cannot encode a face of shape {face.shape}")
    return data.ravel()


def face_digest(key: str, png: bytes) -> str:
    """sha256 of one stored face: its key and its PNG bytes (so a face moved to another key no longer matches)."""
    return hashlib.sha256(key.encode() + b"\0" + png).hexdigest()


def save_pack(pack: AlignedPack, path: str | Path) -> Path:
    """Write the pack (PNG-encoded faces: what is stored is exactly what is embedded) and ``<path>.json``
    (its report), each atomically."""
    path = Path(path)
    encoded = [encode_face(face) for face in pack.faces]
    offsets = np.cumsum([0] + [len(e) for e in encoded])
    blob = np.concatenate(encoded) if encoded else np.zeros(0, np.uint8)

    digests = np.array([face_digest(key, e.tobytes()) for key, e in zip(pack.keys, encoded, strict=True)])
    with atomic_path(path, ".npz.tmp") as tmp, open(tmp, "wb") as f:
        np.savez(f, keys=np.array(pack.keys), png=blob, offsets=offsets, boxes=pack.boxes,
                 landmarks=pack.landmarks, scores=pack.scores, status=pack.status,
                 report=np.array(json.dumps(pack.report)), digests=digests)
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
            report = json.loads(str(data["report"]))
            if report.get("format") != FORMAT_VERSION:
                raise PackError(f"{path} is an aligned pack of format {report.get('format')}, this facelib reads "
                                f"format {FORMAT_VERSION}: delete it and run `facelib prepare` again")
            blob, offsets = data["png"], data["offsets"]
            keys = [str(k) for k in data["keys"]]
            pngs = [blob[offsets[k]:offsets[k + 1]] for k in range(len(offsets) - 1)]
            digests = [face_digest(key, png.tobytes()) for key, png in zip(keys, pngs, strict=True)]
            if "digests" in data.files:  # packs written before per-face digests have none to check
                changed = [key for key, mine, stored in zip(keys, digests, data["digests"], strict=True)
                           if mine != str(stored)]
                if changed:
                    raise PackError(f"{path}: {len(changed)} stored faces do not match their digests (changed or "
                                    f"moved to another image), e.g. {', '.join(changed[:3])}: run `facelib prepare` "
                                    "again")
            faces = np.stack([cv2.cvtColor(cv2.imdecode(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for png in pngs])
            return AlignedPack(keys, faces, data["boxes"], data["landmarks"], data["scores"], data["status"], report,
                               hashlib.sha256("".join(digests).encode()).hexdigest())
    except PackError:
        raise
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile, cv2.error) as err:
        raise PackError(f"{path} is not a facelib aligned pack (or is damaged): {err}") from err


def pack_faces(samples: list[Sample], output: str | Path, detector: str = "yunet", progress: bool = True,
               choice: str = "centre") -> dict:
    """Detect, choose (``choice``), align (ArcFace template, 112x112) and write ``samples`` in the MS1M
    RecordIO layout (JPEG quality 95, as MS1M); returns a report.

    A photo without a detected face is aligned by the template placed in its central box (counted).
    Identities are numbered in sorted order of their names.
    """
    from ..detect import create_detector
    from .recordio import write_ms1m

    finder = create_detector(detector)
    groups: dict[str, list[bytes]] = {}
    fallback = several = differs = 0
    for sample in tqdm(samples, desc="detect and align", disable=not progress):
        found = detect_and_align(load_image(sample.path), finder, choice, central_box)
        fallback += found.status == "fallback"
        several += found.faces > 1
        differs += found.index != found.largest
        groups.setdefault(sample.identity, []).append(encode_face(found.face, lossless=False).tobytes())
    names = sorted(groups)
    write_ms1m(output, [groups[name] for name in names])
    return {"images": len(samples), "identities": len(names), "fallback": fallback, "several_faces": several,
            "choice_differs_from_largest": differs, "face_choice": choice, "detector": detector,
            "output": str(output)}
