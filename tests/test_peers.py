"""The peer models through facelib's pipeline and scorer: SFace on the aligned packs, dlib on its own chips."""

from __future__ import annotations

import numpy as np
import pytest

from facelib import verification as V


def test_dlib_peer_on_its_own_chips_separates_lfw_pairs(data_env):
    pytest.importorskip("dlib", reason="the dlib peer is optional: pip install 'rtnet-facelib[peers]'")
    from facelib.peers import DlibEmbedder

    bench = V.load_benchmark("lfw", pairs=100, progress=False)
    pack, path = V.prepare(bench, progress=False)
    embedder = DlibEmbedder()
    result, _ = V.run(bench, pack, path, embedder)
    assert result.accuracy > 0.93, result.accuracy
    embeddings = V.embeddings_for(pack, path, embedder, root=bench.root)
    assert embeddings.shape == (len(pack.keys), 128)
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_photo_peers_need_the_image_root(data_env):
    pytest.importorskip("dlib", reason="the dlib peer is optional: pip install 'rtnet-facelib[peers]'")
    from facelib.peers import DlibEmbedder

    bench = V.load_benchmark("lfw", pairs=20, progress=False)
    pack, path = V.prepare(bench, progress=False)
    with pytest.raises(ValueError, match="give the benchmark's image root"):
        V.embeddings_for(pack, path, DlibEmbedder(), rotation=7.0)


def test_rotate_photo_turns_the_box_with_the_photo():
    image = np.zeros((100, 200, 3), np.uint8)
    rotated, box = V.rotate_photo(image, np.array([90.0, 40.0, 110.0, 60.0]), 90)
    assert rotated.shape == image.shape
    np.testing.assert_allclose(box, [90.0, 39.0, 110.0, 59.0], atol=1e-3)  # a square box turns about the centre
