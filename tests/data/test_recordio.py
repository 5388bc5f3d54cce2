"""RecordIO without mxnet: byte-exact against golden files written by mxnet 1.9.1, MS1M layout, errors."""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from facelib.data.recordio import (
    MAGIC,
    MS1MRecords,
    RecordError,
    RecordReader,
    RecordWriter,
    encode_record,
    pack_image_record,
    unpack_image_record,
    write_ms1m,
)

FIXTURES = Path(__file__).parent / "fixtures" / "recordio"
MAGIC_BYTES = struct.pack("<I", MAGIC)
# The payloads of make_fixtures.py, rebuilt here with facelib's packer.
TRICKY = b"abcd" + MAGIC_BYTES + b"efgh" + b"mnop" + MAGIC_BYTES + b"qr" + MAGIC_BYTES[:2] + b"zz" + MAGIC_BYTES
PAYLOADS = [
    (0, pack_image_record(7.0, b"plain image bytes", id=1)),
    (1, pack_image_record(3.0, TRICKY, id=2)),
    (2, pack_image_record([1.5, 2.5, 3.5], b"array label", id=3)),
    (3, pack_image_record(0.0, b"", id=4)),
]


def test_writer_is_byte_identical_to_mxnet(tmp_path):
    with RecordWriter(tmp_path / "out.rec", tmp_path / "out.idx") as writer:
        for key, payload in PAYLOADS:
            writer.write(key, payload)
    assert (tmp_path / "out.rec").read_bytes() == (FIXTURES / "golden.rec").read_bytes()
    assert (tmp_path / "out.idx").read_text() == (FIXTURES / "golden.idx").read_text()


def test_reader_reads_mxnets_file_including_split_records():
    with RecordReader(FIXTURES / "golden.rec", FIXTURES / "golden.idx") as reader:
        assert reader.keys() == [0, 1, 2, 3]
        for key, payload in PAYLOADS:
            assert reader.read(key) == payload
        header, image = unpack_image_record(reader.read(1))
        assert image == TRICKY and header.label == 3.0 and header.id == 2
        header, image = unpack_image_record(reader.read(2))
        assert header.flag == 3 and header.label == (1.5, 2.5, 3.5) and image == b"array label"
    # 4 record headers, 2 more where mxnet split record 1 at its aligned magics, and the unaligned
    # magic at the end of that payload, which stays in the data
    assert (FIXTURES / "golden.rec").read_bytes().count(MAGIC_BYTES) == 4 + 2 + 1


def test_split_encoding_round_trips_any_payload(tmp_path):
    rng = np.random.default_rng(0)
    for _ in range(50):
        parts = [rng.bytes(int(rng.integers(0, 12)) * 4) for _ in range(int(rng.integers(1, 5)))]
        payload = MAGIC_BYTES.join(parts) + rng.bytes(int(rng.integers(0, 7)))
        encoded = encode_record(payload)
        assert len(encoded) % 4 == 0
        with RecordWriter(tmp_path / "rt.rec", tmp_path / "rt.idx") as writer:
            writer.write(5, payload)
        with RecordReader(tmp_path / "rt.rec", tmp_path / "rt.idx") as reader:
            assert reader.read(5) == payload


def _jpeg(value: int) -> bytes:
    image = np.full((112, 112, 3), value, np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_ms1m_layout_round_trip(tmp_path):
    identities = [[_jpeg(10), _jpeg(20)], [_jpeg(30)], [_jpeg(40), _jpeg(50), _jpeg(60)]]
    write_ms1m(tmp_path, identities)
    assert (tmp_path / "property").read_text() == "3,112,112\n"
    pack = MS1MRecords(tmp_path)
    assert pack.num_classes == 3 and len(pack) == 6
    assert [label for _, label in pack.samples()] == [0, 0, 1, 2, 2, 2]
    key, label = pack.samples()[2]
    decoded = cv2.imdecode(np.frombuffer(pack.image(key), np.uint8), cv2.IMREAD_COLOR)
    assert label == 1 and abs(int(decoded.mean()) - 30) <= 2
    header, _ = unpack_image_record(pack.reader.read(0))
    assert header.label == (7.0, 10.0)  # identity records 7..9 after images 1..6


def test_corrupt_and_mismatched_files_name_the_record(tmp_path):
    write_ms1m(tmp_path, [[_jpeg(10), _jpeg(20)], [_jpeg(30)]])
    data = bytearray((tmp_path / "train.rec").read_bytes())
    offsets = dict(line.split("\t") for line in (tmp_path / "train.idx").read_text().splitlines())
    broken = tmp_path / "broken"
    broken.mkdir()
    corrupt = bytearray(data)
    corrupt[int(offsets["2"])] ^= 0xFF  # destroy record 2's magic
    (broken / "train.rec").write_bytes(corrupt)
    (broken / "train.idx").write_text((tmp_path / "train.idx").read_text())
    with pytest.raises(RecordError, match=r"record 2 at byte \d+: no RecordIO magic"):
        RecordReader(broken / "train.rec", broken / "train.idx").read(2)
    (broken / "train.rec").write_bytes(data[: int(offsets["2"]) + 20])
    with pytest.raises(RecordError, match="outside|truncated"):
        RecordReader(broken / "train.rec", broken / "train.idx").read(2)
    (broken / "train.idx").write_text("0\t0\n1\t999999\n")
    with pytest.raises(RecordError, match="does not belong to this .rec"):
        RecordReader(tmp_path / "train.rec", broken / "train.idx")
    (broken / "train.idx").write_text("zero\t0\n")
    with pytest.raises(RecordError, match="expected 'key<TAB>offset'"):
        RecordReader(tmp_path / "train.rec", broken / "train.idx")
    (tmp_path / "property").write_text("1,112,112\n")
    with pytest.raises(RecordError, match="says 1 classes but the labels name 2"):
        MS1MRecords(tmp_path)


def test_writer_leaves_nothing_behind_on_failure(tmp_path):
    with pytest.raises(RuntimeError), RecordWriter(tmp_path / "a.rec", tmp_path / "a.idx") as writer:
        writer.write(0, b"x")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_mxnet_reads_facelibs_file(tmp_path):
    """Cross-check with mxnet's reader where a Python with mxnet 1.9.1 is configured (FACELIB_MXNET_PYTHON)."""
    python = os.environ.get("FACELIB_MXNET_PYTHON")
    if not python:
        pytest.skip("set FACELIB_MXNET_PYTHON to a Python with mxnet==1.9.1 (numpy<2) to cross-check with mxnet")
    write_ms1m(tmp_path, [[_jpeg(10), _jpeg(20)], [TRICKY]])
    script = (
        "import numpy as np; np.bool = bool\n"
        "import mxnet as mx, sys\n"
        f"r = mx.recordio.MXIndexedRecordIO('{tmp_path}/train.idx', '{tmp_path}/train.rec', 'r')\n"
        "h, _ = mx.recordio.unpack(r.read_idx(0)); print(list(h.label))\n"
        "h, img = mx.recordio.unpack(r.read_idx(3)); print(h.label, img == sys.argv[1].encode('latin1'))\n"
    )
    out = subprocess.run([python, "-c", script, TRICKY.decode("latin1")], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[4.0, 6.0]", "1.0 True"]


def _layout(tmp_path: Path, header: tuple[int, int], identities: list[tuple[int, int]], images: int,
            labels: list[int] | None = None, classes: int | None = None) -> Path:
    """An MS1M pack written record by record, so that its ranges can be wrong."""
    folder = tmp_path / "pack"
    folder.mkdir(parents=True)
    labels = labels or [0] * images
    with RecordWriter(folder / "train.rec", folder / "train.idx") as writer:
        writer.write(0, pack_image_record(header, b""))
        for key in range(1, images + 1):
            writer.write(key, pack_image_record(float(labels[key - 1]), b"img", id=key))
        for k, span in enumerate(identities):
            writer.write(images + 1 + k, pack_image_record(span, b""))
    if classes is not None:
        (folder / "property").write_text(f"{classes},112,112\n")
    return folder


@pytest.mark.parametrize(("header", "identities", "reason"), [
    ((5, 7), [(1, 3), (2, 5)], "overlap"),
    ((5, 7), [(1, 3), (3, 9)], "outside the image records"),
    ((5, 7), [(1, 2), (3, 5)], "belong to no identity"),
    ((5, 6), [(1, 3), (3, 5)], "leaves out 1 records"),
])
def test_identity_ranges_that_would_give_wrong_labels_are_refused(tmp_path, header, identities, reason):
    folder = _layout(tmp_path, header, identities, images=4, labels=[0, 0, 1, 1])
    with pytest.raises(RecordError, match=reason):
        MS1MRecords(folder)


def test_a_property_file_with_more_classes_than_labels_is_refused(tmp_path):
    folder = _layout(tmp_path, (5, 7), [(1, 3), (3, 5)], images=4, labels=[0, 0, 1, 1], classes=5)
    with pytest.raises(RecordError, match="says 5 classes but the labels name 2"):
        MS1MRecords(folder)


def test_swapped_idx_offsets_are_caught_when_the_record_is_read(tmp_path):
    folder = _layout(tmp_path, (5, 7), [(1, 3), (3, 5)], images=4, labels=[0, 0, 1, 1])
    lines = (folder / "train.idx").read_text().splitlines()
    offsets = {int(k): v for k, v in (line.split("\t") for line in lines)}
    offsets[1], offsets[3] = offsets[3], offsets[1]  # key 1 now serves record 3 (another identity)
    offsets_text = "".join(f"{k}\t{v}\n" for k, v in sorted(offsets.items()))
    (folder / "train.idx").write_text(offsets_text)
    records = MS1MRecords(folder)
    with pytest.raises(RecordError, match=r"record 1 at byte \d+ says it is record 3"):
        records.image(1, 0)
    with pytest.raises(RecordError, match="labelled 1 in its own header, 0 by its identity range"):
        MS1MRecords(_layout(tmp_path / "b", (5, 7), [(1, 3), (3, 5)], images=4, labels=[1, 0, 1, 1])).image(1, 0)


def test_a_missing_idx_key_is_a_record_error_or_a_counted_skip(tmp_path):
    from facelib.train.data import FaceTrainingSet

    folder = write_ms1m(tmp_path / "pack", [[_jpeg(10), _jpeg(20)], [_jpeg(30)]])
    lines = [line for line in (folder / "train.idx").read_text().splitlines() if not line.startswith("2\t")]
    (folder / "train.idx").write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordError, match="image records 1 .. 3 expected, 1 missing"):
        FaceTrainingSet(folder)


def _plain_list(folder: Path, records: list[tuple[int, bytes]]) -> Path:
    """A plain image-list RecordIO (no identity header, no property file): each record labelled in its header."""
    folder.mkdir(parents=True)
    with RecordWriter(folder / "train.rec", folder / "train.idx") as writer:
        for key, (label, image) in enumerate(records):
            writer.write(key, pack_image_record(float(label), image, id=key))
    return folder


def _garbled(jpeg: bytes) -> bytes:
    """A JPEG whose entropy-coded data is overwritten in the middle: libjpeg warns and still returns pixels."""
    data = bytearray(jpeg)
    start = data.index(b"\xff\xda") + 20  # past the start-of-scan header
    for k in range(start, start + 200, 3):
        data[k] = 0xFF if data[k + 1] != 0x00 else data[k]
    return bytes(data)


def test_a_garbled_jpeg_inside_a_record_is_named_not_trained_on(tmp_path):
    from facelib.train.data import FaceTrainingSet

    rng = np.random.default_rng(0)
    faces = [cv2.imencode(".jpg", rng.integers(0, 255, (112, 112, 3), dtype=np.uint8))[1].tobytes() for _ in range(3)]
    bad = _garbled(faces[1])
    assert cv2.imdecode(np.frombuffer(bad, np.uint8), cv2.IMREAD_COLOR) is not None  # OpenCV alone takes it
    folder = write_ms1m(tmp_path / "pack", [[faces[0], bad], [faces[2]]])
    data = FaceTrainingSet(folder)
    data[0]
    with pytest.raises(RecordError, match=r"train.rec record 2: corrupt JPEG"):
        data[1]
    assert FaceTrainingSet(folder, on_error="skip")[1] is None


def test_labels_that_skip_classes_without_a_property_file_are_refused(tmp_path):
    plain = _plain_list(tmp_path / "skips", [(0, _jpeg(10)), (99, _jpeg(20)), (3, _jpeg(30))])
    with pytest.raises(RecordError, match="without a property file the labels must be 0 .. N-1.*never used"):
        MS1MRecords(plain)
    fine = _plain_list(tmp_path / "fine", [(0, _jpeg(10)), (1, _jpeg(20)), (1, _jpeg(30))])
    assert MS1MRecords(fine).num_classes in (0, None) and len(MS1MRecords(fine)) == 3
