"""insightface .bin files: written, read back, and never allowed to run code."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from facelib.data.verification_bin import UnsafePickleError, decode, read_bin, write_bin


def _faces(n=4):
    y, x = np.mgrid[0:112, 0:112]
    return [np.stack([(x + 20 * k) % 256, (y * 2) % 256, (x + y) // 2], -1).astype(np.uint8) for k in range(n)]


def test_round_trip(tmp_path):
    faces = _faces()
    path = write_bin(tmp_path / "lfw.bin", faces, [True, False])
    images, issame = read_bin(path)
    assert issame == [True, False] and len(images) == 4
    decoded = decode(images[1])
    assert decoded.shape == (112, 112, 3)
    assert np.abs(decoded.astype(int) - faces[1].astype(int)).mean() < 3  # JPEG: lossy but close
    assert not list(tmp_path.glob("*.tmp"))


def test_python2_style_files_are_read(tmp_path):
    # What Python 2's pickle wrote for ([str, str], [True]): byte strings as SHORT_BINSTRING opcodes.
    path = tmp_path / "old.bin"
    path.write_bytes(b"\x80\x02]q\x00(U\x03\xff\xd8aq\x01U\x03\xff\xd8bq\x02e]q\x03\x88a\x86q\x04.")
    assert read_bin(path) == ([b"\xff\xd8a", b"\xff\xd8b"], [True])


def test_a_malicious_pickle_does_not_execute(tmp_path):
    marker = tmp_path / "executed"

    class Exploit:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.bin"
    path.write_bytes(pickle.dumps(([Exploit()], [True])))
    with pytest.raises(UnsafePickleError, match="refusing to load"):
        read_bin(path)
    assert not marker.exists()
    path.write_bytes(pickle.dumps(([np.zeros(3)], [True])))  # even harmless classes are refused
    with pytest.raises(UnsafePickleError, match="numpy"):
        read_bin(path)


def test_malformed_files_are_reported(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(pickle.dumps(([b"a", b"b", b"c"], [True])))
    with pytest.raises(ValueError, match="3 images for 1 pair labels"):
        read_bin(path)
    path.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a verification .bin"):
        read_bin(path)
    with pytest.raises(FileNotFoundError):
        read_bin(tmp_path / "missing.bin")
    with pytest.raises(ValueError, match="2 images per pair"):
        write_bin(tmp_path / "x.bin", _faces(3), [True, False])


def test_protocol_2_files_written_by_python_3_are_read(tmp_path):
    path = tmp_path / "p2.bin"
    path.write_bytes(pickle.dumps(([b"\x89PNG\xff", b"\x00\x01"], [True]), protocol=2))
    assert b"_codecs" in path.read_bytes()  # protocol 2 rebuilds bytes through _codecs.encode
    assert read_bin(path) == ([b"\x89PNG\xff", b"\x00\x01"], [True])


def test_codecs_encode_is_allowed_only_for_latin1_text(tmp_path):
    path = tmp_path / "evil.bin"
    # _codecs.encode(b"x", "zlib"): the allowed global with arguments other than latin1 text
    path.write_bytes(b"\x80\x02c_codecs\nencode\nq\x00C\x01xq\x01X\x04\x00\x00\x00zlibq\x02\x86q\x03Rq\x04.")
    with pytest.raises(UnsafePickleError, match="only latin1"):
        read_bin(path)


@pytest.mark.parametrize(("labels", "reason"), [([7], "pair label 0 is 7"), (["yes"], "is a str")])
def test_labels_other_than_booleans_are_refused_with_the_reason(tmp_path, labels, reason):
    path = tmp_path / "bad.bin"
    path.write_bytes(pickle.dumps(([b"a", b"b"], labels), protocol=4))
    with pytest.raises(ValueError, match=reason):
        read_bin(path)
