"""Face alignment: 5-point similarity alignment to the ArcFace template, and box crops.

Landmarks are ``(5, 2)`` ``(x, y)`` pixels in the ArcFace order: left eye, right eye, nose, left
mouth corner, right mouth corner, where "left" is the image's left (the subject's right).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .detect import FaceDetector, NoFaceError, find_faces, refine_landmarks, strong_score, template_fit

# The standard 112x112 ArcFace template (insightface), in the order above.
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)
ALIGNED_SIZE = 112


def _check_landmarks(landmarks: np.ndarray, name: str = "landmarks") -> np.ndarray:
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 2:
        raise ValueError(f"{name} must be an (N, 2) array of (x, y) points with N >= 2; got shape {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError(f"{name} contains non-finite values: {points.tolist()}")
    return points


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) taking ``source`` onto ``target``.

    Umeyama's closed form (IEEE TPAMI 1991), the estimate insightface's ``norm_crop`` gets from
    scikit-image; written here because OpenCV's ``estimateAffinePartial2D`` is a robust (RANSAC or
    LMedS) fit that does not give the least-squares solution on five points, and scikit-image would be
    a dependency for fifteen lines.

    Args:
        source, target: ``(N, 2)`` corresponding points.

    Returns:
        ``(2, 3)`` matrix ``M`` with ``target ~ M @ [x, y, 1]``.
    """
    src, dst = _check_landmarks(source, "source"), _check_landmarks(target, "target")
    if src.shape != dst.shape:
        raise ValueError(f"source and target must have the same shape; got {src.shape} and {dst.shape}")
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    variance = (src_c ** 2).sum() / len(src)
    if variance == 0:
        raise ValueError("source points are all identical: no transform is defined")
    scale = np.trace(np.diag(singular) @ sign) / variance
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack((scale * rotation, translation[:, None]))


def norm_crop(image: np.ndarray, landmarks: np.ndarray, size: int = ALIGNED_SIZE) -> np.ndarray:
    """Align a face to the ArcFace template: ``(size, size, C)`` crop of ``image`` (``(H, W, C)``).

    ``landmarks`` is ``(5, 2)``; the template is scaled by ``size / 112``.
    """
    points = _check_landmarks(landmarks)
    if points.shape != (5, 2):
        raise ValueError(f"landmarks must be (5, 2) in the ArcFace order; got shape {points.shape}")
    matrix = similarity_transform(points, ARCFACE_TEMPLATE * (size / ALIGNED_SIZE))
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)


def square_box(box: Sequence[float], margin: float = 0.0) -> np.ndarray:
    """The square ``(x1, y1, x2, y2)`` centred on ``box`` with side ``max(w, h) * (1 + margin)``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        raise ValueError(f"box must have x2 > x1 and y2 > y1; got {(x1, y1, x2, y2)}")
    if margin <= -1:
        raise ValueError(f"margin must be > -1; got {margin}")
    side = max(x2 - x1, y2 - y1) * (1.0 + margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])


def crop_face(image: np.ndarray, box: Sequence[float], margin: float = 0.2, size: int = ALIGNED_SIZE) -> np.ndarray:
    """A square crop around ``box`` enlarged by ``margin``, resized to ``(size, size, C)``; zero outside the image.

    The box is in pixel-edge coordinates (a detector's box; ``(0, 0, W, H)`` is the whole image) and
    its edges land on the output's edges, so that box with ``margin=0`` gives a plain resize.
    """
    x1, y1, x2, y2 = square_box(box, margin)
    scale = size / (x2 - x1)
    # Pixel-centre convention: image x (centre of pixel j at j) maps to (x - x1 + 0.5) * scale - 0.5.
    matrix = np.array([[scale, 0.0, (0.5 - x1) * scale - 0.5], [0.0, scale, (0.5 - y1) * scale - 0.5]])
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)


# Where a detector's box lies in the ArcFace-aligned crop when it has no ``box_in_aligned`` of its own: YuNet's.
BOX_IN_ALIGNED = (15.4, 12.8, 94.3, 119.8)


def box_crop(image: np.ndarray, box: Sequence[float], turns: int = 0, box_in_aligned: Sequence[float] = BOX_IN_ALIGNED,
             size: int = ALIGNED_SIZE) -> np.ndarray:
    """The box-only face: a ``(size, size, C)`` crop that frames the face of ``box`` (``(x1, y1, x2, y2)`` in
    ``image``) as 5-point alignment would on average (the box placed where the detector's boxes lie in aligned
    crops, ``box_in_aligned``), turned by ``turns`` quarter turns counter-clockwise (the turn of the photo in which
    the detector found the face upright; :attr:`facelib.detect.Detections.turns`). No landmark is used: a face tilted
    within its turn stays tilted, up to 45 degrees, for a rotation-robust model to carry."""
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        raise ValueError(f"box must have x2 > x1 and y2 > y1; got {(x1, y1, x2, y2)}")
    a1, b1, a2, b2 = box_in_aligned
    width, height = (x2 - x1, y2 - y1) if turns % 2 == 0 else (y2 - y1, x2 - x1)
    scale = (a2 - a1 + b2 - b1) / (width + height) * size / ALIGNED_SIZE
    quarter = np.array([[0.0, 1.0], [-1.0, 0.0]])  # counter-clockwise on screen, image y pointing down
    rotation = np.linalg.matrix_power(quarter, turns % 4)
    target = np.array([(a1 + a2) / 2, (b1 + b2) / 2]) * size / ALIGNED_SIZE
    centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    linear = scale * rotation
    matrix = np.hstack((linear, (target - linear @ centre)[:, None]))
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)


def template_landmarks(box: Sequence[float]) -> np.ndarray:
    """The ArcFace template's five points placed in a box ``(x1, y1, x2, y2)``: ``(5, 2)``."""
    x1, y1, x2, y2 = box
    return ARCFACE_TEMPLATE / ALIGNED_SIZE * [x2 - x1, y2 - y1] + [x1, y1]


def central_box(image: np.ndarray, fraction: float = 0.6) -> tuple[float, float, float, float]:
    """The central square of ``fraction`` of the shorter side of an ``(H, W, ...)`` image, as a box."""
    height, width = image.shape[:2]
    side = fraction * min(height, width)
    return (width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2


@dataclass(frozen=True)
class AlignedFace:
    """One face chosen in a photo and aligned (or cropped) to ``(112, 112, 3)`` uint8 RGB."""

    face: np.ndarray  # (112, 112, 3) uint8 RGB
    box: np.ndarray  # (4,) x1, y1, x2, y2 in the photo
    landmarks: np.ndarray  # (5, 2) used for the alignment
    score: float  # the detector's score (0 for a fallback)
    status: str  # "detected" | "fallback"
    faces: int  # how many faces the detector found
    index: int  # which of them was used (-1 for a fallback)
    largest: int  # which of them is the largest (-1 when none): differs from ``index`` under ``centre``
    weak: bool = False  # no face passed the confidence rule, so the most likely of the weak ones was used
    roll: float = 0.0  # the face's in-plane angle in the photo, degrees counter-clockwise on screen (landmarks)
    turns: int = 0  # quarter turns of the photo in which the detector found it (orientation "any"; else 0)


def detect_and_align(image: np.ndarray, detector: FaceDetector, choice: str = "largest",
                     fallback_box: Callable[[np.ndarray], Sequence[float]] | None = None,
                     align: bool = True, orientation: str = "upright", confident: bool = False) -> AlignedFace:
    """Detect -> choose one face -> align: the one step every caller (benchmark packs, training packs, the
    embedder) goes through.

    Args:
        image: ``(H, W, 3)`` uint8 RGB photo (detected on a copy of at most
            :data:`facelib.detect.MAX_DETECT_SIDE` pixels, aligned from the full resolution).
        detector: a :class:`facelib.detect.FaceDetector`.
        choice: ``"largest"`` or ``"centre"`` (:data:`facelib.detect.FACE_CHOICES`).
        fallback_box: when no face is found, place the ArcFace template in ``fallback_box(image)``
            (status ``"fallback"``); without one, raise :class:`facelib.detect.NoFaceError`.
        align: 5-point alignment to the ArcFace template (True; it removes the face's rotation for any model) or
            the box-only path (:func:`box_crop`: the box framed as alignment would on average, turned by the quarter
            turn it was found in; no landmark used, the face keeps its tilt within that turn).
        orientation: ``"upright"`` or ``"any"`` (:func:`facelib.detect.find_faces`); with ``"any"`` a tilted face's
            landmarks are looked for again with the face turned upright (:func:`facelib.detect.refine_landmarks`).
        confident: ``choice`` takes only faces that pass the confidence rule
            (:meth:`facelib.detect.Detections.plausible`); when none does, the most confident face is used and
            ``weak`` is set. Off for benchmark packs detected upright, which keep release 0.1's choices.
    """
    detections = find_faces(detector, image, orientation)
    weak = False
    if len(detections):
        candidates = np.arange(len(detections))
        if confident:
            passed = detections.plausible(strong_score(detector))
            weak = not passed.any()
            candidates = np.flatnonzero(passed) if passed.any() else np.argmax(detections.scores)[None]
        index = int(candidates[detections.subset(candidates).choose(choice, image.shape)])
        box, landmarks = detections.boxes[index], detections.landmarks[index]
        if orientation == "any":
            landmarks = refine_landmarks(detector, image, box, landmarks)
        score, status, largest = float(detections.scores[index]), "detected", detections.largest()
    elif fallback_box is not None:
        box = np.asarray(fallback_box(image), np.float32)
        landmarks = template_landmarks(box).astype(np.float32)
        score, status, index, largest = 0.0, "fallback", -1, -1
    else:
        raise NoFaceError(f"no face found in the image ({image.shape[1]}x{image.shape[0]} px)")
    if align:
        face = norm_crop(image, landmarks)
    elif status == "detected":
        turned = 0 if detections.turns is None else int(detections.turns[index])
        face = box_crop(image, box, turned, getattr(detector, "box_in_aligned", BOX_IN_ALIGNED))
    else:
        face = crop_face(image, box)
    roll = float(template_fit(landmarks)[0]) if status == "detected" else 0.0
    turns = int(detections.turns[index]) if status == "detected" and detections.turns is not None else 0
    return AlignedFace(face, box, landmarks, score, status, len(detections), index, largest, weak, roll, turns)
