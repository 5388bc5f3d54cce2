"""facelib.detect on real LFW photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facelib.data.images import load_image
from facelib.data.lfw import image_path
from facelib.detect import Detections, IbugRetinaFaceDetector, create_detector

PEOPLE = [("Aaron_Eckhart", 1), ("George_W_Bush", 1), ("Serena_Williams", 1), ("Colin_Powell", 1),
          ("Angelina_Jolie", 1), ("Tony_Blair", 2), ("Venus_Williams", 1), ("Gerhard_Schroeder", 3)]


@pytest.fixture(scope="module")
def mtcnn():
    return create_detector("mtcnn")


def test_mtcnn_finds_lfw_faces_with_arcface_ordered_landmarks(data_env, mtcnn):
    for name, number in PEOPLE:
        detections = mtcnn.detect(load_image(image_path(name, number)))
        assert len(detections) >= 1, name
        face = detections.largest()
        x1, y1, x2, y2 = detections.boxes[face]
        # Deep-funneled photos: the face is near the centre of the 250x250 image.
        assert 90 < (x1 + x2) / 2 < 160 and 90 < (y1 + y2) / 2 < 160, name
        points = detections.landmarks[face]
        assert points.shape == (5, 2)
        left_eye, right_eye, nose, left_mouth, right_mouth = points
        assert left_eye[0] < nose[0] < right_eye[0] and left_mouth[0] < right_mouth[0], name
        assert max(left_eye[1], right_eye[1]) < nose[1] < min(left_mouth[1], right_mouth[1]), name
        assert ((points >= [x1, y1]) & (points <= [x2, y2])).all(), name


def test_yunet_agrees_with_mtcnn_on_lfw(data_env, mtcnn):
    yunet = create_detector("yunet")
    for name, number in PEOPLE[:4]:
        image = load_image(image_path(name, number))
        a, b = mtcnn.detect(image), yunet.detect(image)
        assert len(b) >= 1, name
        pa, pb = a.landmarks[a.largest()], b.landmarks[b.largest()]
        interocular = np.linalg.norm(pa[0] - pa[1])
        assert np.linalg.norm(pa - pb, axis=1).mean() < 0.2 * interocular, name  # same points, same order


def test_no_face_and_several_faces(data_env, mtcnn):
    assert len(mtcnn.detect(np.full((200, 200, 3), 127, np.uint8))) == 0
    assert len(mtcnn.detect(np.zeros((8, 8, 3), np.uint8))) == 0  # tiny image: nothing, no error
    a, b = load_image(image_path("Aaron_Eckhart", 1)), load_image(image_path("Serena_Williams", 1))
    small_b = b[::2, ::2]
    pair = np.zeros((250, 375, 3), np.uint8)
    pair[:, :250], pair[:125, 250:] = a, small_b
    detections = mtcnn.detect(pair)
    assert len(detections) == 2
    assert detections.boxes[detections.largest()][0] < 250  # the full-size face is the largest


def test_detector_input_checks_and_registry():
    with pytest.raises(ValueError, match="uint8 RGB"):
        create_detector("mtcnn").detect(np.zeros((50, 50), np.uint8))
    with pytest.raises(ValueError, match="unknown detector"):
        create_detector("haar")
    with pytest.raises(LookupError, match="no face"):
        Detections.empty().largest()


def test_ibug_retinaface_adapter_when_installed(data_env):
    pytest.importorskip("ibug.face_detection", reason="ibug.face_detection is not on PyPI; install it to test it")
    detector = IbugRetinaFaceDetector()
    assert len(detector.detect(load_image(image_path("Aaron_Eckhart", 1)))) >= 1


def test_ibug_retinaface_adapter_says_how_to_get_it_when_absent():
    try:
        import ibug.face_detection  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="not on PyPI"):
            IbugRetinaFaceDetector()
    else:
        pytest.skip("ibug.face_detection is installed here")


@pytest.mark.parametrize("detector_name", ["yunet", "mtcnn"])
def test_large_photos_are_detected_on_a_downscaled_copy(lfw_photo, detector_name):
    from facelib.align import detect_and_align
    from facelib.detect import MAX_DETECT_SIDE, detect_faces

    photo, _ = lfw_photo
    detector = create_detector(detector_name)
    at_limit = cv2.resize(photo, (MAX_DETECT_SIDE, MAX_DETECT_SIDE), interpolation=cv2.INTER_CUBIC)
    reference = detect_faces(detector, at_limit)
    assert len(reference) == 1
    for side in (2000, 4500):
        big = cv2.resize(photo, (side, side), interpolation=cv2.INTER_CUBIC)
        found = detect_faces(detector, big)
        assert len(found) == 1, side  # not eyes and noses as faces, and not nothing
        scale = side / MAX_DETECT_SIDE  # boxes and landmarks come back in the large photo's pixels
        assert np.abs(found.boxes[0] / scale - reference.boxes[0]).max() < 3, side
        assert np.abs((found.landmarks[0] + 0.5) / scale - 0.5 - reference.landmarks[0]).max() < 3, side
    aligned = detect_and_align(big, detector).face.astype(int)
    assert np.abs(aligned - detect_and_align(photo, detector).face.astype(int)).mean() < 20  # the same face


def test_images_too_large_to_decode_are_refused_by_name(tmp_path):
    import struct
    import zlib

    from facelib.data.images import load_image

    path = tmp_path / "huge.png"
    cv2.imwrite(str(path), np.zeros((4, 4, 3), np.uint8))
    data = bytearray(path.read_bytes())
    ihdr = data[12:29]  # chunk type + 13 bytes of IHDR data
    ihdr[4:12] = struct.pack(">II", 30000, 30000)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"huge.png is 30000x30000 px \(900 MP\)"):
        load_image(path)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_image(tmp_path)
